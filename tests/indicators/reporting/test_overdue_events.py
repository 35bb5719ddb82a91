"""Report forms overdue as events, on both databases: the reminder job publishes
``report_form.overdue`` once per form × unit × period when the deadline passes without a
completion (fake clock; run twice, told once); completing the form publishes
``report_form.submitted``; the shipped rule ``report_form_overdue`` raises a minor alert on the
first and resolves it on the second."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from dieuhanh.alerts.models import Alert
from dieuhanh.core.events import EventRecord, Outcome
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.catalog.periods import parse_period
from dieuhanh.indicators.reporting import service
from dieuhanh.indicators.reporting.reminders import send_reminders
from tests.alerts.conftest import deliver_alerts as deliver_alerts  # the fixture
from tests.alerts.conftest import only_rules
from tests.indicators import builders as b
from tests.indicators.reporting.test_reminders import NOW, setup_form


def form_events(runtime: Runtime) -> list[tuple[str, str, str, str]]:
    with runtime.sessions() as session:
        rows = session.execute(select(EventRecord.topic, EventRecord.payload).where(
            EventRecord.topic.like("report_form.%")).order_by(EventRecord.id)).all()  # fmt: skip
    return [(topic, p["unit_code"], p["period"], p["by"]) for topic, p in rows
            if p["form"] == "TK01"]  # fmt: skip


def test_overdue_raises_once_and_submission_resolves(
    runtime: Runtime, deliver_alerts: Callable[..., Outcome]
) -> None:
    units = setup_form(runtime)
    only_rules(runtime, "report_form_overdue")
    for _ in range(2):  # the hourly job, twice: once is enough
        with runtime.sessions() as session:
            send_reminders(session, NOW)
            session.commit()
    # B completed December; A and C did not (January is not due yet).
    assert sorted(form_events(runtime)) == [
        ("report_form.overdue", units["A"], "202512", "system"),
        ("report_form.overdue", units["C"], "202512", "system")]  # fmt: skip
    deliver_alerts()
    subject = f"form:TK01:{units['C']}:202512"
    with runtime.sessions() as session:
        (alert,) = session.scalars(select(Alert).where(Alert.subject == subject))
        assert alert.state == "open" and alert.severity == "minor"
        assert "quá hạn" in alert.title and "Tháng 12/2025" in alert.title
        form, unit = b.form_by_code(session, "TK01"), b.unit(session, units["C"])
        late = service.complete(session, form, unit, parse_period("202512"), "commune", NOW)
        assert late.on_time is False
        session.commit()
    assert form_events(runtime)[-1] == ("report_form.submitted", units["C"], "202512", "commune")
    deliver_alerts()
    with runtime.sessions() as session:
        (alert,) = session.scalars(select(Alert).where(Alert.subject == subject))
        assert alert.state == "resolved" and alert.resolved_by == "rule"
        other = session.scalars(
            select(Alert).where(Alert.subject == f"form:TK01:{units['A']}:202512")
        )
        assert other.one().state == "open"  # A still has not
