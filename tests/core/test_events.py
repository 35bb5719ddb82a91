"""The durable event stream on both databases: publishing, delivery, failures, retention."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.db.engine import make_session_factory
from dieuhanh.core.events import (
    EventError,
    EventRecord,
    PayloadMismatch,
    Subscription,
    UnknownTopic,
    publish,
    resume,
    subscriber_statuses,
    trim_events,
)
from dieuhanh.core.events.dispatcher import EventDispatcher
from dieuhanh.core.runtime import Runtime
from tests.core.kit import (
    REGISTRY,
    Ping,
    count_handled,
    deliver,
    event_ids,
    handled_ids,
    recording_handler,
    subscribe,
)

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def publish_pings(runtime: Runtime, numbers: range, topic: str = "test.ping") -> list[int]:
    with runtime.sessions() as session:
        records = [
            publish(session, topic, {"n": n} if topic == "test.ping" else {"text": str(n)})
            for n in numbers
        ]
        session.commit()
        return [record.id for record in records]


def subscription(name: str, topics: tuple[str, ...] = ("test.ping",), **options) -> Subscription:
    options.setdefault("start", "earliest")
    return Subscription(name, topics, recording_handler(name), **options)


def test_unknown_topic_is_refused_before_anything_is_written(events_runtime: Runtime) -> None:
    with events_runtime.sessions() as session:
        with pytest.raises(UnknownTopic, match=r"'test\.pong'.*test\.note, test\.ping"):
            publish(session, "test.pong", {"n": 1})
        session.commit()
    assert event_ids(events_runtime.engine) == []


def test_payload_not_matching_the_schema_names_the_field(events_runtime: Runtime) -> None:
    with events_runtime.sessions() as session:
        with pytest.raises(PayloadMismatch, match=r"test\.ping.*Ping.*n: Input should be"):
            publish(session, "test.ping", {"n": "many"})
        with pytest.raises(PayloadMismatch, match=r"extra: Extra inputs"):
            publish(session, "test.ping", {"n": 1, "extra": True})
        record = publish(session, "test.ping", Ping(n=2))  # a model instance is accepted too
        session.commit()
    assert record.payload == {"n": 2}


def test_a_session_without_a_registry_cannot_publish(events_runtime: Runtime) -> None:
    bare = make_session_factory(events_runtime.engine)
    with bare() as session, pytest.raises(EventError, match="no topic registry"):
        publish(session, "test.ping", {"n": 1})


def test_rolled_back_change_leaves_no_event(events_runtime: Runtime) -> None:
    with events_runtime.sessions() as session:
        publish(session, "test.ping", {"n": 1})
        session.rollback()
    assert event_ids(events_runtime.engine) == []


def test_delivery_in_order_and_resume_from_the_cursor(events_runtime: Runtime) -> None:
    pings, notes = subscription("pings"), subscription("everything", ("test.*",))
    subscribe(events_runtime.sessions, pings, notes)
    first = publish_pings(events_runtime, range(150))
    note_ids = publish_pings(events_runtime, range(5), topic="test.note")
    outcome = deliver(events_runtime.sessions, pings)
    assert outcome.delivered == 150 and not outcome.busy
    assert handled_ids(events_runtime.engine, "pings") == first

    # A restart: new sessions, same database; only what came after the cursor is delivered.
    later = publish_pings(events_runtime, range(150, 160))
    restarted = make_session_factory(events_runtime.engine)
    assert deliver(restarted, pings).delivered == 10
    assert deliver(restarted, pings).delivered == 0
    assert handled_ids(events_runtime.engine, "pings") == first + later
    deliver(restarted, notes)
    assert handled_ids(events_runtime.engine, "everything") == sorted(first + note_ids + later)


def test_a_new_subscriber_starts_at_the_newest_event_by_default(events_runtime: Runtime) -> None:
    publish_pings(events_runtime, range(3))
    fresh = subscription("fresh", start="latest")
    subscribe(events_runtime.sessions, fresh)
    new = publish_pings(events_runtime, range(3, 5))
    deliver(events_runtime.sessions, fresh)
    assert handled_ids(events_runtime.engine, "fresh") == new


def test_failing_handler_is_retried_then_parked_without_blocking_others(
    events_runtime: Runtime,
) -> None:
    engine = events_runtime.engine
    ids = publish_pings(events_runtime, range(6))
    poison = ids[3]
    tries: list[int] = []

    def fragile(session: Session, record: EventRecord) -> None:
        recording_handler("fragile")(session, record)  # written, then rolled back on failure
        if record.id == poison:
            tries.append(record.id)
            raise RuntimeError("cannot handle this one")

    fragile_sub = Subscription(
        "fragile", ("test.ping",), fragile, start="earliest", max_attempts=3, backoff_seconds=60
    )
    steady = subscription("steady")
    subscribe(events_runtime.sessions, fragile_sub, steady)

    outcome = deliver(events_runtime.sessions, fragile_sub, T0)
    assert outcome.delivered == 3 and outcome.retry_at == T0 + timedelta(seconds=60)
    assert handled_ids(engine, "fragile") == ids[:3]  # committed with the cursor
    # Before the backoff has passed nothing is tried; after it, the same event again.
    assert deliver(events_runtime.sessions, fragile_sub, T0 + timedelta(seconds=30)).delivered == 0
    assert tries == [poison]
    second = deliver(events_runtime.sessions, fragile_sub, T0 + timedelta(seconds=61))
    assert second.retry_at == T0 + timedelta(seconds=181)  # the wait doubled
    assert deliver(events_runtime.sessions, fragile_sub, T0 + timedelta(hours=1)).parked
    assert tries == [poison] * 3
    assert deliver(events_runtime.sessions, fragile_sub, T0 + timedelta(days=1)).parked

    deliver(events_runtime.sessions, steady)
    assert handled_ids(engine, "steady") == ids  # the other subscriber went on
    with events_runtime.sessions() as session:
        status = {s.name: s for s in subscriber_statuses(session)}
    parked = status["fragile"]
    assert (parked.state, parked.failures, parked.failing_event_id) == ("parked", 3, poison)
    assert f"event #{poison} (test.ping): RuntimeError: cannot handle this one" in (
        parked.last_error or ""
    )
    assert parked.lag == 3 and parked.last_event_id == ids[2]
    assert (status["steady"].state, status["steady"].lag) == ("live", 0)

    with events_runtime.sessions() as session:
        resume(session, "fragile", skip=True)
        session.commit()
    deliver(events_runtime.sessions, fragile_sub, T0 + timedelta(days=1))
    assert handled_ids(engine, "fragile") == ids[:3] + ids[4:]  # the poison event was passed
    assert tries == [poison] * 3


def test_handled_events_are_not_handled_again(events_runtime: Runtime) -> None:
    """A batch commits the handler's changes and the cursor together: a later failure in the
    same subscriber, or running it again, never repeats what was committed."""
    sub = subscription("once", batch_size=7)
    subscribe(events_runtime.sessions, sub)
    ids = publish_pings(events_runtime, range(30))
    for _ in range(3):
        deliver(events_runtime.sessions, sub)
    assert handled_ids(events_runtime.engine, "once") == ids


def test_retention_trims_old_events_but_keeps_the_newest(events_runtime: Runtime) -> None:
    with events_runtime.sessions() as session:
        for days in (200, 120, 91, 89, 1):
            record = publish(session, "test.ping", {"n": days})
            record.at = T0 - timedelta(days=days)
        session.commit()
        assert trim_events(session, T0, 90) == 3
        session.commit()
        assert session.scalars(select(EventRecord.payload).order_by(EventRecord.id)).all() == [
            {"n": 89},
            {"n": 1},
        ]
        # Everything older than the retention: the newest stays, so ids never restart.
        assert trim_events(session, T0 + timedelta(days=365), 90) == 1
        session.commit()
        newest = publish(session, "test.ping", {"n": 0})
        session.commit()
    assert event_ids(events_runtime.engine) == [record.id, newest.id]
    assert newest.id > record.id


def test_subscriptions_are_checked_against_the_declared_topics(events_runtime: Runtime) -> None:
    with pytest.raises(UnknownTopic, match=r"'tset\.\*' names no declared event topic"):
        EventDispatcher(events_runtime.sessions, [subscription("typo", ("tset.*",))], REGISTRY)
    with pytest.raises(EventError, match="used twice"):
        EventDispatcher(events_runtime.sessions, [subscription("a"), subscription("a")], REGISTRY)
    with pytest.raises(EventError, match="subscriber name 'Bad Name'"):
        EventDispatcher(events_runtime.sessions, [subscription("Bad Name")], REGISTRY)


async def run_until(condition, dispatchers, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """Run the dispatchers until ``condition()`` holds (bounded), then stop them cleanly."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(d.run(stop)) for d in dispatchers]
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await asyncio.to_thread(condition):
            assert asyncio.get_running_loop().time() < deadline, "delivery did not finish in time"
            for task in tasks:
                if task.done():
                    task.result()
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)


def test_two_dispatchers_at_once_deliver_each_event_once(events_runtime: Runtime, make_runtime):  # type: ignore[no-untyped-def]
    other = make_runtime(str(events_runtime.engine.url.render_as_string(hide_password=False)))
    from dieuhanh.core.events import bind_topics

    bind_topics(other.sessions, REGISTRY)
    sub = subscription("shared", batch_size=10)
    dispatchers = [
        EventDispatcher(runtime.sessions, [sub], REGISTRY, poll_seconds=0.05)
        for runtime in (events_runtime, other)
    ]

    async def scenario() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(d.run(stop)) for d in dispatchers]
        try:
            published: list[int] = []
            for start in range(0, 200, 20):
                published += await asyncio.to_thread(
                    publish_pings, events_runtime, range(start, start + 20)
                )
            await run_until(lambda: count_handled(events_runtime.engine) >= 200, [])
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
        assert handled_ids(events_runtime.engine, "shared") == published

    asyncio.run(scenario())


def test_a_publication_wakes_the_dispatcher(events_runtime: Runtime) -> None:
    """PostgreSQL: delivered long before the next poll (60 s), so by the LISTEN/NOTIFY wake-up.
    SQLite: by polling at ``poll_seconds``."""
    postgres = events_runtime.engine.dialect.name == "postgresql"
    sub = subscription("woken")
    dispatcher = EventDispatcher(
        events_runtime.sessions, [sub], REGISTRY, poll_seconds=60 if postgres else 0.05
    )

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        try:
            for _ in range(200):  # until it listens (bounded: 10 s)
                if not postgres or (dispatcher.listener and dispatcher.listener.connected):
                    break
                await asyncio.sleep(0.05)
            assert not postgres or (dispatcher.listener and dispatcher.listener.connected)
            ids = await asyncio.to_thread(publish_pings, events_runtime, range(3))
            for _ in range(400):  # bounded: 20 s, a third of the poll interval
                if handled_ids(events_runtime.engine, "woken") == ids:
                    break
                await asyncio.sleep(0.05)
            assert handled_ids(events_runtime.engine, "woken") == ids
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=30)

    asyncio.run(scenario())
