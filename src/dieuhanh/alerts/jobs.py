"""The alerts' background work: what time alone decides (pending periods, flapping settled)."""

from __future__ import annotations

from dieuhanh.alerts.notify import send_due
from dieuhanh.alerts.service import tick
from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.jobs import Job
from dieuhanh.core.runtime import Runtime


def jobs(runtime: Runtime) -> list[Job]:
    def pending() -> str:
        with runtime.sessions() as session:
            set_actor(session, SYSTEM)
            decided = tick(session, utcnow())
            session.commit()
            return f"{decided} decision(s)"

    def deliveries() -> str:
        sent, failed = send_due(runtime)
        return f"{sent} sent, {failed} to try again"

    return [
        Job(
            "alerts.deliveries",
            runtime.settings.alerts.delivery_seconds,
            deliveries,
            description="Sends queued alert notifications (e-mail, signed webhooks), each with "
            "its own timeout; failures are tried again with a doubling wait.",
        ),
        Job(
            "alerts.tick",
            runtime.settings.alerts.tick_seconds,
            pending,
            description="Raises the alerts whose pending period ('for: 30m') is over while "
            "their condition still holds, and resolves flapping ones that stayed clear.",
        ),
    ]
