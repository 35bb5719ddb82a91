"""The demo's parts publish while they seed, before the background runs: every subscriber's
cursor is made first, so the alerts see what they publish — each late sample report raises its
alert — where a cursor made afterwards would start past those events."""

from __future__ import annotations

from sqlalchemy import select

from dieuhanh.alerts.models import Alert, AlertState
from dieuhanh.capabilities import subscriptions
from dieuhanh.citizen import demo as citizen_demo
from dieuhanh.citizen.models import CitizenReport
from dieuhanh.core.runtime import Runtime
from dieuhanh.demo import subscribe_first
from tests.core.kit import deliver

RESOLVED = ("resolved", "closed")


def open_report_alerts(runtime: Runtime) -> set[str]:
    with runtime.sessions() as session:
        return set(
            session.scalars(
                select(Alert.subject).where(
                    Alert.state == AlertState.OPEN, Alert.subject.like("report:%")
                )
            )
        )


def late_reports(runtime: Runtime) -> set[str]:
    with runtime.sessions() as session:
        found = session.scalars(
            select(CitizenReport.code).where(
                CitizenReport.overdue_at.is_not(None), CitizenReport.status.not_in(RESOLVED)
            )
        )
        return {f"report:{code}" for code in found}


def test_what_the_demo_parts_publish_reaches_the_alerts(runtime: Runtime) -> None:
    subscribe_first(runtime)
    subscribe_first(runtime)  # a second start leaves the cursors where they are
    citizen_demo.start(runtime)
    (rules,) = [s for s in subscriptions(runtime) if s.name == "alerts.rules"]
    deliver(runtime.sessions, rules)
    late = late_reports(runtime)
    assert late, "the sample has late reports"
    assert open_report_alerts(runtime) == late


def test_without_the_cursors_first_the_late_sample_raises_nothing(runtime: Runtime) -> None:
    citizen_demo.start(runtime)  # published before any cursor exists
    (rules,) = [s for s in subscriptions(runtime) if s.name == "alerts.rules"]
    subscribe_first(runtime)
    deliver(runtime.sessions, rules)
    assert late_reports(runtime) and not open_report_alerts(runtime)
