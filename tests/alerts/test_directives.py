"""Directives to communes and back, on both databases with a fake clock: a scenario sends one to
three communes that acknowledge, report progress and finish — one late, marked overdue, then
escalated, which the shipped rule turns into an alert until it is done; a commune cannot act for
another; requests for support go up; a scenario's rule issues its directive by itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from dieuhanh.alerts.directives import watch
from dieuhanh.alerts.models import Alert, AlertRule, Directive
from dieuhanh.alerts.scenarios import shipped
from dieuhanh.alerts.scenarios import subscriptions as scenario_subscriptions
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.events import Outcome
from dieuhanh.core.runtime import Runtime
from dieuhanh.units.models import Unit
from tests.alerts.conftest import publish_camera
from tests.conftest import LOC_THANH, LONG_THANH
from tests.core.kit import deliver, subscribe

Auth = Callable[[str], dict[str, str]]
Deliver = Callable[..., Outcome]


def third_commune(runtime: Runtime) -> str:
    with runtime.sessions() as session:
        others = Unit.code.not_in([LOC_THANH, LONG_THANH])
        return session.scalars(
            select(Unit.code).where(Unit.type == "commune", others).order_by(Unit.code).limit(1)
        ).one()


def step(client: TestClient, auth: Auth, who: str, code: str, unit: str, action: str,
         **body: Any) -> Any:  # fmt: skip
    return client.post(f"/api/v1/directives/{code}/recipients/{unit}/{action}", json=body,
                       headers=auth(who))  # fmt: skip


def test_a_scenario_directs_three_communes_one_late_and_escalated(
    client: TestClient, auth: Auth, runtime: Runtime, deliver_alerts: Deliver
) -> None:
    other = third_commune(runtime)
    ran = client.post("/api/v1/scenarios/dossiers_overdue/run", headers=auth("operator"),
                      json={"unit_codes": [LOC_THANH, LONG_THANH, other]})  # fmt: skip
    assert ran.status_code == 201, ran.text
    directive = ran.json()
    code = directive["code"]
    assert directive["scenario"] == "dossiers_overdue" and directive["priority"] == "normal"
    assert [r["state"] for r in directive["recipients"]] == ["sent"] * 3

    # Lộc Thạnh does it all; another commune may not act for it.
    assert step(client, auth, "commune2", code, LOC_THANH, "acknowledge").status_code == 403
    assert step(client, auth, "commune", code, LOC_THANH, "acknowledge").status_code == 200
    again = step(client, auth, "commune", code, LOC_THANH, "acknowledge")
    assert again.status_code == 409 and again.json()["error"]["code"] == "wrong_state"
    step(client, auth, "commune", code, LOC_THANH, "assign", assignee="Nguyễn Văn A")
    bad = step(client, auth, "commune", code, LOC_THANH, "progress", text="Đang rà soát")
    assert bad.status_code == 422  # no percent
    step(client, auth, "commune", code, LOC_THANH, "progress", text="Đã rà soát 12 hồ sơ",
         percent=60)  # fmt: skip
    done = step(client, auth, "commune", code, LOC_THANH, "report",
                text="Đã xử lý dứt điểm 12 hồ sơ, gửi thư xin lỗi.")  # fmt: skip
    mine = next(r for r in done.json()["recipients"] if r["unit_code"] == LOC_THANH)
    assert (mine["state"], mine["percent"]) == ("done", 100)
    assert [u["action"] for u in mine["updates"]] == ["acknowledge", "assign", "progress",
                                                      "report"]  # fmt: skip
    # Long Thành and the third commune acknowledge; the third one finishes, Long Thành is late.
    for who, unit in (("commune2", LONG_THANH), ("operator", other)):
        assert step(client, auth, who, code, unit, "acknowledge").status_code == 200
    step(client, auth, "operator", code, other, "report", text="Hoàn thành.")

    deadline = utcnow() + timedelta(hours=72, minutes=1)
    with runtime.sessions() as session:
        assert watch(session, runtime.settings, deadline) == "1 step(s) overdue, 0 escalated"
        assert watch(session, runtime.settings, deadline) == "0 step(s) overdue, 0 escalated"
        later = deadline + timedelta(hours=24)
        assert watch(session, runtime.settings, later) == "0 step(s) overdue, 1 escalated"
        session.commit()
    deliver_alerts()  # the shipped rule directive_escalated
    with runtime.sessions() as session:
        (alert,) = session.scalars(select(Alert).where(Alert.rule_code == "directive_escalated"))
        assert alert.state == "open" and alert.subject == f"directive:{code}:{LONG_THANH}"
    board = client.get("/api/v1/directives/board", headers=auth("operator")).json()
    row = next(entry for entry in board if entry["code"] == code)
    states = {
        r["unit_code"]: (r["state"], r["overdue_step"], r["escalated"]) for r in row["recipients"]
    }
    assert states[LONG_THANH] == ("acknowledged", "result", True)
    assert states[LOC_THANH] == ("done", None, False) and row["done"] == 2
    step(client, auth, "commune2", code, LONG_THANH, "report", text="Đã hoàn thành, chậm 1 ngày.")
    deliver_alerts()
    with runtime.sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.rule_code == "directive_escalated")).one()
        assert alert.state == "resolved"
    # A commune sees only directives to or from it on its board.
    assert [e["code"] for e in client.get("/api/v1/directives/board",
                                          headers=auth("commune")).json()] == [code]  # fmt: skip


def test_bad_directives_are_refused(client: TestClient, auth: Auth) -> None:
    base = {"title": "Kiểm tra", "deadline": (utcnow() + timedelta(days=2)).isoformat()}
    cases = [({"unit_codes": ["99999"]}, "operator", 422, "unknown_unit"),
             ({"unit_codes": []}, "operator", 422, "no_recipients"),
             ({"unit_codes": [LOC_THANH], "deadline": "2020-01-01T00:00:00+07:00"}, "operator",
              422, "invalid_deadline"),
             ({"unit_codes": [LOC_THANH]}, "commune", 403, "permission_denied")]  # fmt: skip
    for change, who, status, error in cases:
        answer = client.post("/api/v1/directives", json={**base, **change}, headers=auth(who))
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, error), change
    assert client.get("/api/v1/directives/CD-2026-999999",
                      headers=auth("operator")).status_code == 404  # fmt: skip


def test_a_commune_asks_the_province_for_support(client: TestClient, auth: Auth) -> None:
    asked = client.post("/api/v1/directives", headers=auth("commune"), json={
        "kind": "request", "title": "Đề nghị hỗ trợ máy bơm chống ngập",
        "deadline": (utcnow() + timedelta(days=1)).isoformat(), "priority": "urgent"})  # fmt: skip
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert [r["unit_code"] for r in request["recipients"]] == ["75"]
    code = request["code"]
    assert step(client, auth, "commune", code, "75", "acknowledge").status_code == 403
    assert step(client, auth, "operator", code, "75", "acknowledge").status_code == 200
    assert client.get(f"/api/v1/directives/{code}", headers=auth("commune2")).status_code == 403


def test_a_camera_cluster_down_issues_its_directive_by_itself(
    runtime: Runtime, deliver_alerts: Deliver
) -> None:
    with runtime.sessions() as session:  # every rule a shipped scenario names exists
        known = set(session.scalars(select(AlertRule.code)))
    assert all(set(scenario.rules) <= known for scenario in shipped())
    subscribe(runtime.sessions, *scenario_subscriptions(runtime))
    for camera_id in (21, 22, 23):
        publish_camera(runtime, "dead", camera_id=camera_id)
    deliver_alerts()
    (subscription,) = scenario_subscriptions(runtime)
    deliver(runtime.sessions, subscription)
    deliver(runtime.sessions, subscription)  # again: one directive per alert
    with runtime.sessions() as session:
        (directive,) = session.scalars(select(Directive))
        alert = session.get(Alert, directive.alert_id)
        assert alert is not None and alert.rule_code == "camera_cluster_down"
        assert directive.scenario == "camera_cluster_down" and directive.priority == "urgent"
        assert directive.title.startswith("Khắc phục sự cố cụm camera tại Xã Lộc Thạnh")
