"""The subscriber decides a batch at once (one savepoint, one flush of its new alerts), on both
databases: what it writes is what handling the events one by one writes, and a rule failing on
one event keeps the alerts of the events before it, once."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select

from dieuhanh.alerts import subscriber
from dieuhanh.alerts.models import Alert, AlertNote, AlertRule
from dieuhanh.alerts.rules import RuleSpec
from dieuhanh.alerts.service import store_rule
from dieuhanh.audit.models import AuditEntry
from dieuhanh.core.events import EventRecord, Subscription, publish, subscriber_statuses
from dieuhanh.core.runtime import Runtime
from tests.alerts.conftest import camera_event, only_rules
from tests.core.kit import deliver, subscribe

# Two cameras in one batch: raised, seen again, cleared, raised again within the flap window
# (the same alert reopened), cleared while flapping.
STORY = [(1, "dead"), (2, "dead"), (1, "dead"), (1, "live"), (2, "unknown"), (1, "dead"),
         (2, "live"), (1, "live"), (2, "dead")]  # fmt: skip


def one_rule(runtime: Runtime, **changes: Any) -> None:
    only_rules(runtime, "camera_dead")
    with runtime.sessions() as session:
        rule = session.scalar(select(AlertRule).where(AlertRule.code == "camera_dead"))
        assert rule is not None
        store_rule(session, RuleSpec.model_validate({**rule.definition, "for": None, **changes}))
        session.commit()


def the_subscription(runtime: Runtime, **changes: Any) -> Subscription:
    subscribe(runtime.sessions, *subscriber.subscriptions(runtime))
    (subscription,) = subscriber.subscriptions(runtime)
    return dataclasses.replace(subscription, **changes)


def publish_story(runtime: Runtime, first_camera: int, story: list[tuple[int, str]]) -> None:
    with runtime.sessions() as session:
        for camera, state in story:
            publish(session, "camera.state_changed", camera_event(state, first_camera + camera))
        session.commit()


def written_for(runtime: Runtime, first_camera: int) -> list[Any]:
    """Alerts, notes, alert events and audit entries about two cameras, ids made relative."""
    subjects = {f"camera:{first_camera + n}": f"camera:{n}" for n in (1, 2)}
    with runtime.sessions() as session:
        alerts = list(session.scalars(
            select(Alert).where(Alert.subject.in_(subjects)).order_by(Alert.id)))  # fmt: skip
        index = {alert.id: n for n, alert in enumerate(alerts)}
        notes = session.scalars(select(AlertNote).where(AlertNote.alert_id.in_(index))
                                .order_by(AlertNote.id))  # fmt: skip
        events = session.scalars(select(EventRecord.payload).where(
            EventRecord.topic.like("alert.%")).order_by(EventRecord.id))  # fmt: skip
        audit = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "alerts")
                                .order_by(AuditEntry.id))  # fmt: skip
        return [
            [(index[a.id], subjects[a.subject], a.state, a.occurrences, a.flaps, a.resolved_by)
             for a in alerts],
            [(index[n.alert_id], n.actor, n.action, n.text) for n in notes],
            [(index[e["id"]], subjects[e["subject"]], e["state"], e["action"], e["flapping"])
             for e in events if e["subject"] in subjects],
            # Each alert's entries in order (a batch flushed at once may interleave two alerts'
            # entries otherwise than one flush per event did).
            sorted(((index[int(a.entity_id)], a.action, sorted(a.after or {}),
                     (a.after or {}).get("state")) for a in audit if int(a.entity_id) in index),
                   key=lambda entry: entry[0]),
        ]  # fmt: skip


def test_a_batch_at_once_writes_what_one_by_one_writes(runtime: Runtime) -> None:
    one_rule(runtime)
    at_once = the_subscription(runtime)
    publish_story(runtime, 100, STORY)
    assert deliver(runtime.sessions, at_once).delivered == len(STORY)

    one_by_one = the_subscription(runtime, batch_handler=None)
    publish_story(runtime, 200, STORY)
    assert deliver(runtime.sessions, one_by_one).delivered == len(STORY)

    expected = written_for(runtime, 200)
    alerts, notes, events, audit = expected
    assert [(a[2], a[4]) for a in alerts] == [("open", 1), ("open", 1)]  # each reopened once
    assert [(e[0], e[2], e[3]) for e in events] == [
        (0, "open", "raised"), (1, "open", "raised"), (0, "resolved", "resolved"),
        (0, "open", "reopened"), (1, "resolved", "resolved"), (1, "open", "reopened"),
    ]  # each event as the alert was then  # fmt: skip
    assert len(notes) == 6 and {a[1] for a in audit} == {"create", "update"}
    assert written_for(runtime, 100) == expected


def test_a_rule_failing_midway_keeps_the_alerts_before_it(runtime: Runtime) -> None:
    """A title whose format does not fit a missing value (``{detail:.20}`` of null) fails on
    that event: the batch is redone one by one, the alerts before it kept once."""
    one_rule(runtime, title="{detail:.20}")
    sub = the_subscription(runtime, max_attempts=2, backoff_seconds=0)
    with runtime.sessions() as session:
        for camera, detail in ((1, "ổ cứng đầy"), (2, "mất điện"), (3, None), (4, "x")):
            publish(session, "camera.state_changed",
                    {**camera_event("dead", 300 + camera), "detail": detail})  # fmt: skip
        session.commit()
    first = deliver(runtime.sessions, sub)
    assert first.delivered == 2 and first.retry_at is not None
    assert deliver(runtime.sessions, sub).parked
    with runtime.sessions() as session:
        alerts = session.execute(select(Alert.subject, Alert.title).order_by(Alert.id)).all()
        raised = session.scalars(select(EventRecord.payload).where(
            EventRecord.topic == "alert.raised")).all()  # fmt: skip
        (status,) = [s for s in subscriber_statuses(session) if s.name == subscriber.SUBSCRIBER]
    assert [tuple(row) for row in alerts] == [("camera:301", "ổ cứng đầy"),
                                              ("camera:302", "mất điện")]  # fmt: skip
    assert sorted(event["subject"] for event in raised) == ["camera:301", "camera:302"]
    assert status.state == "parked" and "TypeError" in (status.last_error or "")
