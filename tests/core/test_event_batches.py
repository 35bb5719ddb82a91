"""A subscriber's batch handler (one savepoint per batch), on both databases: the same
guarantees as event by event — a failure keeps the events before it, the failing one is retried
then parked — and the batch's own changes are never kept twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy.orm import Session

from dieuhanh.core.events import CHANNEL, EventRecord, Subscription, publish, subscriber_statuses
from dieuhanh.core.events.notify import conninfo
from dieuhanh.core.runtime import Runtime
from tests.core.kit import deliver, handled_ids, recording_handler, subscribe

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def publish_pings(runtime: Runtime, count: int) -> list[int]:
    with runtime.sessions() as session:
        records = [publish(session, "test.ping", {"n": n}) for n in range(count)]
        session.commit()
        return [record.id for record in records]


class Recorder:
    """A subscriber with all three parts, each counting its calls and writing a row per event
    (the batch handler under its own name, to tell which path kept what)."""

    def __init__(self, name: str, poison: int | None = None) -> None:
        self.name, self.poison = name, poison
        self.prepared: list[list[int]] = []
        self.batches = 0
        self.one_by_one: list[int] = []

    def prepare(self, session: Session, events: list[EventRecord]) -> None:
        self.prepared.append([event.id for event in events])

    def handle(self, session: Session, event: EventRecord) -> None:
        self.one_by_one.append(event.id)
        recording_handler(self.name)(session, event)
        if event.id == self.poison:
            raise RuntimeError("cannot handle this one")

    def handle_batch(self, session: Session, events: list[EventRecord]) -> None:
        self.batches += 1
        for event in events:
            recording_handler(f"{self.name}.batch")(session, event)
            if event.id == self.poison:
                raise RuntimeError("cannot handle this one")

    def subscription(self, **options) -> Subscription:  # type: ignore[no-untyped-def]
        return Subscription(self.name, ("test.ping",), self.handle, start="earliest",
                            prepare=self.prepare, batch_handler=self.handle_batch,
                            **options)  # fmt: skip


def test_a_batch_handler_takes_whole_batches(events_runtime: Runtime) -> None:
    recorder = Recorder("whole")
    sub = recorder.subscription(batch_size=4)
    subscribe(events_runtime.sessions, sub)
    ids = publish_pings(events_runtime, 10)
    assert deliver(events_runtime.sessions, sub).delivered == 10
    assert recorder.batches == 3  # 4 + 4 + 2
    assert recorder.prepared == [] and recorder.one_by_one == []
    assert handled_ids(events_runtime.engine, "whole.batch") == ids
    assert deliver(events_runtime.sessions, sub).delivered == 0  # the cursor moved with them


def test_a_batch_failing_mid_batch_keeps_the_events_before_it(events_runtime: Runtime) -> None:
    engine = events_runtime.engine
    ids = publish_pings(events_runtime, 6)
    poison = ids[3]
    recorder = Recorder("midway", poison=poison)
    sub = recorder.subscription(max_attempts=2, backoff_seconds=60)
    subscribe(events_runtime.sessions, sub)

    outcome = deliver(events_runtime.sessions, sub, T0)
    assert outcome.delivered == 3 and outcome.retry_at == T0 + timedelta(seconds=60)
    # The batch's savepoint was rolled back, then the batch redone event by event: prepare again
    # (for all of it), the good prefix kept once, the failing event's own row rolled back too.
    assert handled_ids(engine, "midway.batch") == []
    assert handled_ids(engine, "midway") == ids[:3]
    assert recorder.prepared == [ids] and recorder.one_by_one == ids[:4]

    parked = deliver(events_runtime.sessions, sub, T0 + timedelta(seconds=61))
    assert parked.parked and parked.delivered == 0
    assert recorder.batches == 2 and recorder.prepared == [ids, ids[3:]]
    assert handled_ids(engine, "midway") == ids[:3]
    with events_runtime.sessions() as session:
        (status,) = [s for s in subscriber_statuses(session) if s.name == "midway"]
    assert (status.state, status.failures, status.failing_event_id) == ("parked", 2, poison)
    assert f"event #{poison} (test.ping): RuntimeError: cannot handle this one" in (
        status.last_error or ""
    )


def test_a_batch_failing_on_its_first_event_keeps_nothing(events_runtime: Runtime) -> None:
    ids = publish_pings(events_runtime, 3)
    recorder = Recorder("first", poison=ids[0])
    sub = recorder.subscription(backoff_seconds=5)
    subscribe(events_runtime.sessions, sub)
    outcome = deliver(events_runtime.sessions, sub, T0)
    assert outcome.delivered == 0 and outcome.retry_at == T0 + timedelta(seconds=5)
    assert handled_ids(events_runtime.engine, "first") == []
    assert handled_ids(events_runtime.engine, "first.batch") == []


def test_a_batch_redone_one_by_one_still_wakes_the_listeners(events_runtime: Runtime) -> None:
    """PostgreSQL: the wake-up the failed batch queued went with its savepoint; what the events
    before the failure published must still wake other processes when it commits."""
    if events_runtime.engine.dialect.name != "postgresql":
        return  # SQLite's dispatchers poll
    ids = publish_pings(events_runtime, 3)

    def announce(session: Session, event: EventRecord) -> None:
        publish(session, "test.note", {"text": f"after {event.id}"})

    def announce_all_then_fail(session: Session, events: list[EventRecord]) -> None:
        for event in events:
            announce(session, event)
        raise RuntimeError("the batch fails after publishing")

    sub = Subscription("announcer", ("test.ping",), announce, start="earliest",
                       batch_handler=announce_all_then_fail)  # fmt: skip
    subscribe(events_runtime.sessions, sub)
    with psycopg.connect(conninfo(events_runtime.engine.url), autocommit=True) as listening:
        listening.execute(f"LISTEN {CHANNEL}")
        assert deliver(events_runtime.sessions, sub).delivered == len(ids)
        woken = list(listening.notifies(timeout=10, stop_after=1))
    assert len(woken) == 1


def test_a_publication_after_a_rolled_back_savepoint_still_wakes_the_listeners(
    events_runtime: Runtime,
) -> None:
    """PostgreSQL, outside any subscriber: a savepoint that published and was rolled back took
    its pg_notify with it; the next publication in the transaction queues one again. One that
    published before a savepoint keeps its own, and a released savepoint's stays queued."""
    if events_runtime.engine.dialect.name != "postgresql":
        return  # SQLite's dispatchers poll
    with psycopg.connect(conninfo(events_runtime.engine.url), autocommit=True) as listening:
        listening.execute(f"LISTEN {CHANNEL}")
        with events_runtime.sessions() as session:
            try:
                with session.begin_nested():
                    publish(session, "test.ping", {"n": 1})
                    raise RuntimeError("this part is undone")
            except RuntimeError:
                pass
            publish(session, "test.ping", {"n": 2})
            session.commit()
        assert len(list(listening.notifies(timeout=10, stop_after=1))) == 1
        for inner_fails in (False, True):
            with events_runtime.sessions() as session:
                publish(session, "test.ping", {"n": 3})  # queued outside the savepoint
                try:
                    with session.begin_nested():
                        publish(session, "test.ping", {"n": 4})
                        if inner_fails:
                            raise RuntimeError("the inner part is undone, not the outer")
                except RuntimeError:
                    pass
                session.commit()
            assert len(list(listening.notifies(timeout=10, stop_after=1))) == 1
