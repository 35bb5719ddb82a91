"""The event API: topics, filtering by topic, subscribers and resuming one."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from dieuhanh.app import create_app
from dieuhanh.audit.models import AuditEntry
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.events import EventRecord, Subscription, publish
from dieuhanh.core.runtime import Runtime
from tests.conftest import token_for
from tests.core.kit import deliver, subscribe


def failing(session, record: EventRecord) -> None:  # type: ignore[no-untyped-def]
    raise ValueError("broken handler")


def test_topics_events_by_topic_and_subscribers(events_runtime: Runtime) -> None:
    sub = Subscription("api.failing", ("test.*",), failing, start="earliest", max_attempts=1)
    subscribe(events_runtime.sessions, sub)
    with events_runtime.sessions() as session:
        ping = publish(session, "test.ping", {"n": 1})
        note = publish(session, "test.note", {"text": "x"})
        session.commit()
    assert deliver(events_runtime.sessions, sub).parked
    with TestClient(create_app(runtime=events_runtime)) as client:
        viewer, admin = token_for(client, "viewer"), token_for(client, "admin")
        topics = client.get("/api/v1/events/topics", headers=viewer).json()
        by_name = {topic["name"]: topic for topic in topics}
        assert set(by_name) == {"camera.state_changed", "test.note", "test.ping"}
        schema = by_name["camera.state_changed"]["payload_schema"]
        assert {"camera_id", "state", "previous_state", "reason", "at"} <= set(schema["properties"])

        def ids(topic: str) -> list[int]:
            response = client.get("/api/v1/events", params={"topic": topic}, headers=admin)
            assert response.status_code == 200, response.text
            return [event["id"] for event in response.json()]

        assert ids("test.ping") == [ping.id] and ids("test.*") == [ping.id, note.id]
        unknown = client.get("/api/v1/events", params={"topic": "test.pong"}, headers=admin)
        assert unknown.status_code == 422
        error = unknown.json()["error"]
        assert error["code"] == "unknown_topic" and "test.pong" in error["message"]
        assert error["details"] == [
            {"known_topics": ["camera.state_changed", "test.note", "test.ping"]}
        ]

        assert client.get("/api/v1/events/subscribers", headers=viewer).status_code == 403
        listed = client.get("/api/v1/events/subscribers", headers=admin).json()
        parked = next(s for s in listed if s["name"] == "api.failing")
        assert parked["state"] == "parked" and parked["lag"] == 2
        assert "ValueError: broken handler" in parked["last_error"]

        url = "/api/v1/events/subscribers/api.failing/resume"
        operator = token_for(client, "operator")
        assert client.post(url, headers=operator).status_code == 403
        missing = client.post("/api/v1/events/subscribers/nobody/resume", headers=admin)
        assert missing.status_code == 404
        resumed = client.post(url, params={"skip": "true"}, headers=admin)
        assert resumed.status_code == 200, resumed.text
        assert resumed.json()["state"] == "live" and resumed.json()["lag"] == 1
    with events_runtime.sessions() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "event_subscribers")
        ).one()
    assert (entry.actor, entry.entity_id, entry.action) == ("admin", "api.failing", "update")
    assert entry.after is not None and entry.after["parked_at"] is None
    assert entry.at > utcnow() - timedelta(minutes=5)
