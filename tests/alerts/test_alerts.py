"""Alerts from real events through the real subscriber, on both databases: one alert per rule ×
subject, raised and cleared once, nothing lost or doubled across a restart, pending periods on
a clock, flapping, people's steps within their unit scope, manual alerts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dieuhanh.alerts.models import Alert, AlertRule
from dieuhanh.alerts.rules import RuleSpec
from dieuhanh.alerts.service import store_rule, tick
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.events import EventRecord, Outcome
from dieuhanh.core.runtime import Runtime
from tests.alerts.conftest import only_rules, publish_camera
from tests.conftest import LOC_THANH

Auth = Callable[[str], dict[str, str]]
Deliver = Callable[..., Outcome]


def immediate_camera_rule(runtime: Runtime, **changes: Any) -> None:
    """The shipped camera rule without its five minutes of patience, alone."""
    only_rules(runtime, "camera_dead")
    with runtime.sessions() as session:
        rule = session.scalar(select(AlertRule).where(AlertRule.code == "camera_dead"))
        assert rule is not None
        store_rule(session, RuleSpec.model_validate({**rule.definition, "for": None, **changes}))
        session.commit()


def alerts_of(runtime: Runtime) -> list[Alert]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def topics_published(runtime: Runtime, prefix: str = "alert.") -> list[str]:
    with runtime.sessions() as session:
        return list(session.scalars(
            select(EventRecord.topic).where(EventRecord.topic.like(prefix + "%"))
            .order_by(EventRecord.id)
        ))  # fmt: skip


def test_a_dead_camera_raises_one_alert_that_clears_once(
    runtime: Runtime, deliver_alerts: Deliver
) -> None:
    immediate_camera_rule(runtime)
    publish_camera(runtime, "dead", "dead")
    deliver_alerts()
    publish_camera(runtime, "dead")
    deliver_alerts()  # a restart between: the cursor is in the database
    (alert,) = alerts_of(runtime)
    assert (alert.state, alert.subject, alert.severity) == ("open", "camera:7", "major")
    assert alert.title == "Camera Cổng UBND số 7 mất tín hiệu (timeout)"
    assert alert.occurrences == 3 and alert.active_key == "camera_dead|camera:7"
    publish_camera(runtime, "live", "live")
    deliver_alerts()
    (alert,) = alerts_of(runtime)
    assert (alert.state, alert.resolved_by, alert.active_key) == ("resolved", "rule", None)
    assert topics_published(runtime) == ["alert.raised", "alert.resolved"]


def test_the_pending_period_waits_for_the_clock(runtime: Runtime, deliver_alerts: Deliver) -> None:
    only_rules(runtime, "camera_dead")
    publish_camera(runtime, "dead")  # the shipped rule: still dead five minutes later
    deliver_alerts()
    with runtime.sessions() as session:
        assert tick(session, utcnow() + timedelta(minutes=4)) == 0
        assert tick(session, utcnow() + timedelta(minutes=6)) == 1
        session.commit()
    with runtime.sessions() as session:
        assert tick(session, utcnow() + timedelta(minutes=20)) == 0  # raised once
        session.commit()
    assert [a.state for a in alerts_of(runtime)] == ["open"]
    publish_camera(runtime, "dead", camera_id=8)
    publish_camera(runtime, "live", camera_id=8)  # back within the five minutes
    deliver_alerts()
    with runtime.sessions() as session:
        assert tick(session, utcnow() + timedelta(minutes=30)) == 0
    assert [a.subject for a in alerts_of(runtime)] == ["camera:7"]


def test_flapping_brings_back_the_same_alert(runtime: Runtime, deliver_alerts: Deliver) -> None:
    immediate_camera_rule(runtime)
    for state in ("dead", "live", "dead", "live", "dead"):
        publish_camera(runtime, state)
        deliver_alerts()
    (alert,) = alerts_of(runtime)
    assert alert.state == "open" and alert.flaps == 1
    raised = topics_published(runtime, "alert.raised")
    assert len(raised) == 2  # raised, then reopened (flapping: no third)


def test_many_cameras_many_alerts_each_once(runtime: Runtime, deliver_alerts: Deliver) -> None:
    immediate_camera_rule(runtime)
    for camera_id in range(1, 31):
        publish_camera(runtime, "dead", camera_id=camera_id)
    deliver_alerts()
    deliver_alerts()
    with runtime.sessions() as session:
        count = session.scalar(select(func.count(Alert.id)).where(Alert.state == "open"))
    assert count == 30


def test_people_act_within_their_unit_scope(client: TestClient, auth: Auth) -> None:
    body = {"title": "Sạt lở bờ kè ấp 3", "severity": "critical", "unit_code": LOC_THANH,
            "detail": "Người dân báo qua điện thoại"}  # fmt: skip
    made = client.post("/api/v1/alerts", headers=auth("commune"), json=body)
    assert made.status_code == 201, made.text
    alert = made.json()
    assert (alert["state"], alert["unit_code"], alert["severity"]) == (
        "open",
        LOC_THANH,
        "critical",
    )
    url = f"/api/v1/alerts/{alert['id']}"
    assert client.get(url, headers=auth("commune2")).status_code == 403
    assert client.post(f"{url}/acknowledge", headers=auth("commune2")).status_code == 403
    listed = client.get("/api/v1/alerts", headers=auth("commune2")).json()
    assert alert["id"] not in [a["id"] for a in listed]
    elsewhere = client.post("/api/v1/alerts", headers=auth("commune2"),
                            json={"title": "x", "unit_code": LOC_THANH})  # fmt: skip
    assert elsewhere.status_code == 403
    acked = client.post(f"{url}/acknowledge", headers=auth("operator")).json()
    assert (acked["state"], acked["acknowledged_by"]) == ("acknowledged", "operator")
    again = client.post(f"{url}/acknowledge", headers=auth("operator"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "wrong_state"
    client.post(f"{url}/assign", json={"assignee": "commune"}, headers=auth("operator"))
    client.post(f"{url}/comment", json={"text": "Đã cử lực lượng."}, headers=auth("commune"))
    empty = client.post(f"{url}/comment", json={"text": " "}, headers=auth("commune"))
    assert empty.status_code == 422
    done = client.post(f"{url}/resolve", json={"text": "Đã gia cố."}, headers=auth("commune"))
    assert done.json()["state"] == "resolved"
    history = [(n["actor"], n["action"]) for n in done.json()["notes"]]
    assert history == [("commune", "raised"), ("operator", "acknowledged"),
                       ("operator", "assigned"), ("commune", "commented"),
                       ("commune", "resolved")]  # fmt: skip
    unknown = client.post("/api/v1/alerts", headers=auth("operator"),
                          json={"title": "x", "unit_code": "99999"})  # fmt: skip
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_unit"
