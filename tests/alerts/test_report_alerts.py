"""A late citizen report through the shipped rules, on both databases: overdue raises a minor
alert, the escalation replaces it by a major one (one open alert per report), and the answer
resolves it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from dieuhanh.alerts.models import Alert
from dieuhanh.citizen.service import watch_deadlines
from dieuhanh.core.events import Outcome
from dieuhanh.core.runtime import Runtime
from tests.alerts.conftest import only_rules

Auth = Callable[[str], dict[str, str]]
Deliver = Callable[..., Outcome]


def alerts_of(runtime: Runtime, code: str) -> list[tuple[str | None, str, str, str | None]]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(Alert.rule_code, Alert.severity, Alert.state, Alert.resolved_by)
            .where(Alert.subject == f"report:{code}")
            .order_by(Alert.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_late_report_has_one_open_alert_at_a_time(
    runtime: Runtime, client: TestClient, auth: Auth, deliver_alerts: Deliver
) -> None:
    only_rules(runtime, "citizen_report_overdue", "citizen_report_escalated")
    body = {"category": "road_damage", "description": "Ổ gà lớn giữa đường.",
            "address": "xã Lộc Thạnh", "contact_phone": "0912345678"}  # fmt: skip
    report = client.post("/api/v1/citizen/reports", json=body, headers=auth("operator")).json()
    due = datetime.fromisoformat(report["due_at"])
    hours = runtime.settings.citizen.escalate_after_hours
    for now in (due + timedelta(hours=1), due + timedelta(hours=hours + 1)):
        with runtime.sessions() as session:
            watch_deadlines(session, runtime.settings, now=now)
            session.commit()
        deliver_alerts()
        if now == due + timedelta(hours=1):
            assert alerts_of(runtime, report["code"]) == [
                ("citizen_report_overdue", "minor", "open", None)]  # fmt: skip
    assert alerts_of(runtime, report["code"]) == [
        ("citizen_report_overdue", "minor", "resolved", "rule"),
        ("citizen_report_escalated", "major", "open", None),
    ]
    for action, note in (("accept", None), ("resolve", "Đã vá ổ gà.")):
        answer = client.post(
            f"/api/v1/citizen/reports/{report['code']}/{action}",
            json={"note": note},
            headers=auth("operator"),
        )
        assert answer.status_code == 200, answer.text  # fmt: skip
    deliver_alerts()
    assert [state for _, _, state, _ in alerts_of(runtime, report["code"])] == [
        "resolved", "resolved"]  # fmt: skip
