"""The alerts' background work: what time alone decides (pending periods, flapping settled, late
directive steps), sending the queued notifications, and the daily briefing's e-mail."""

from __future__ import annotations

from dieuhanh.alerts.briefing_mail import send_briefings
from dieuhanh.alerts.directives import watch
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

    def directive_steps() -> str:
        with runtime.sessions() as session:
            set_actor(session, SYSTEM)
            result = watch(session, runtime.settings, utcnow())
            session.commit()
            return result

    return [
        Job(
            "alerts.briefing",
            runtime.settings.alerts.briefing_check_seconds,
            lambda: send_briefings(runtime, utcnow()),
            description="From alerts.briefing_hour (province time), e-mails the daily briefing "
            "of their unit to each person who asked for it, once a day (recorded).",
        ),
        Job(
            "alerts.directives",
            runtime.settings.alerts.directive_check_seconds,
            directive_steps,
            description="Marks directive steps past their time overdue (directive.overdue) and "
            "escalates those late alerts.directive_escalate_hours more (directive.escalated).",
        ),
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
