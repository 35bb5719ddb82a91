"""The citizen reports' background work: the deadline watch."""

from __future__ import annotations

from dieuhanh.citizen.service import watch_deadlines
from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.jobs import Job
from dieuhanh.core.runtime import Runtime


def jobs(runtime: Runtime) -> list[Job]:
    def deadlines() -> str:
        with runtime.sessions() as session:
            set_actor(session, SYSTEM)
            result = watch_deadlines(session, runtime.settings)
            session.commit()
            return result

    return [
        Job(
            "citizen.deadlines",
            runtime.settings.citizen.deadline_check_seconds,
            deadlines,
            description="Marks open reports past their deadline overdue, escalates those still "
            "open past citizen.escalate_after_hours, closes resolved ones past the reopening "
            "window; publishes citizen_report.overdue and .escalated.",
        )
    ]
