"""The citizen reports' background work: the deadline watch."""

from __future__ import annotations

from dieuhanh.citizen.service import watch_deadlines
from dieuhanh.citizen.statistics import store_values
from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.jobs import Job
from dieuhanh.core.runtime import Runtime

STATISTICS_EVERY_SECONDS = 60


def jobs(runtime: Runtime) -> list[Job]:
    def deadlines() -> str:
        with runtime.sessions() as session:
            set_actor(session, SYSTEM)
            result = watch_deadlines(session, runtime.settings)
            session.commit()
            return result

    def statistics() -> str:
        with runtime.sessions() as session:
            set_actor(session, SYSTEM)
            summary = store_values(session, runtime.settings, runtime.today())
            session.commit()
            return f"{summary.changed} value(s) changed, {len(summary.conflicts)} conflict(s)"

    return [
        Job(
            "citizen.statistics",
            STATISTICS_EVERY_SECONDS,
            statistics,
            description="Computes REPORTS_1022 and REPORTS_1022_ON_TIME of this month and the "
            "last from the reports, per unit, and stores them through the one write path.",
        ),
        Job(
            "citizen.deadlines",
            runtime.settings.citizen.deadline_check_seconds,
            deadlines,
            description="Marks open reports past their deadline overdue, escalates those still "
            "open past citizen.escalate_after_hours, closes resolved ones past the reopening "
            "window; publishes citizen_report.overdue and .escalated.",
        ),
    ]
