"""A subscriber working through a backlog of heavy events (after the demo's seed, a restart, a
big import): it delivers it in slices bounded in time, each committed with its cursor, lets other
writers of an SQLite file have the write lock between them, and stops after one slice."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from dieuhanh.core.db.base import utcnow
from dieuhanh.core.db.engine import Timeouts, make_engine
from dieuhanh.core.events import (
    EventDispatcher,
    EventRecord,
    Subscription,
    publish,
    run_until_idle,
)
from dieuhanh.core.events.cursors import EventSubscriber
from dieuhanh.core.events.pacing import Pacing
from dieuhanh.core.runtime import Runtime
from tests.aio import run
from tests.core.conftest import with_test_topics
from tests.core.kit import (
    HANDLED,
    REGISTRY,
    deliver,
    handled_ids,
    horizon_now,
    recording_handler,
    subscribe,
)

HEAVY_SECONDS = 0.1  # what one event costs its handler (a big data_values.changed: ~1 s)


def publish_pings(runtime: Runtime, count: int) -> list[int]:
    with runtime.sessions() as session:
        records = [publish(session, "test.ping", {"n": n}) for n in range(count)]
        session.commit()
        return [record.id for record in records]


@dataclass
class Slices:
    """What a subscriber saw, transaction by transaction: ``prepare`` opens each batch."""

    name: str
    per_event: float = HEAVY_SECONDS
    batches: list[list[int]] = field(default_factory=list)

    def prepare(self, session: Session, events: list[EventRecord]) -> None:
        self.batches.append([])

    def handle(self, session: Session, event: EventRecord) -> None:
        time.sleep(self.per_event)  # the handler's own work, holding the transaction
        recording_handler(self.name)(session, event)
        self.batches[-1].append(event.id)

    def handle_batch(self, session: Session, events: list[EventRecord]) -> None:
        self.batches.append([])
        for event in events:
            self.handle(session, event)

    def subscription(self, **options) -> Subscription:  # type: ignore[no-untyped-def]
        return Subscription(self.name, ("test.ping",), self.handle, start="earliest",
                            prepare=self.prepare, **options)  # fmt: skip


def cursor_of(runtime: Runtime, name: str) -> int:
    with runtime.sessions() as session:
        return session.scalars(
            select(EventSubscriber.last_event_id).where(EventSubscriber.name == name)
        ).one()


def test_heavy_events_are_delivered_in_slices_of_about_batch_seconds(
    events_runtime: Runtime,
) -> None:
    slices = Slices("heavy")
    sub = slices.subscription(batch_size=100, batch_seconds=3.5 * HEAVY_SECONDS)
    subscribe(events_runtime.sessions, sub)
    ids = publish_pings(events_runtime, 12)
    assert deliver(events_runtime.sessions, sub).delivered == 12
    # Three events fill the budget (the fourth would likely pass it): the batch commits there,
    # however many more it read.
    assert len(slices.batches) >= 4 and max(map(len, slices.batches)) <= 3
    assert [event for batch in slices.batches for event in batch] == ids
    assert handled_ids(events_runtime.engine, "heavy") == ids
    assert cursor_of(events_runtime, "heavy") == ids[-1]


def test_a_slow_batch_handler_is_given_smaller_batches(events_runtime: Runtime) -> None:
    slices = Slices("whole", per_event=0.02)
    sub = Subscription("whole", ("test.ping",), slices.handle, start="earliest",
                       batch_handler=slices.handle_batch, batch_size=50,
                       batch_seconds=0.3)  # fmt: skip
    subscribe(events_runtime.sessions, sub)
    ids = publish_pings(events_runtime, 90)
    assert deliver(events_runtime.sessions, sub).delivered == 90
    first, second, *_ = map(len, slices.batches)
    # The first batch (50 × 20 ms, 1 s) overran its 0.3 s: the next takes what fitted.
    assert first == 50 and second <= 15
    assert [event for batch in slices.batches for event in batch] == ids


def test_delivery_stops_between_slices(events_runtime: Runtime) -> None:
    slices = Slices("stopping")
    sub = slices.subscription(batch_seconds=2.5 * HEAVY_SECONDS)
    subscribe(events_runtime.sessions, sub)
    ids = publish_pings(events_runtime, 20)
    outcome = run_until_idle(
        events_runtime.sessions, sub, horizon_now(events_runtime.engine), utcnow,
        stopping=lambda: bool(slices.batches),
    )  # fmt: skip
    assert outcome.more and outcome.delivered == len(slices.batches[0]) < len(ids)
    assert cursor_of(events_runtime, "stopping") == slices.batches[0][-1]
    assert deliver(events_runtime.sessions, sub).delivered == len(ids) - outcome.delivered


def test_a_dispatcher_stops_after_one_slice_of_a_backlog(events_runtime: Runtime) -> None:
    slices = Slices("backlog")
    sub = slices.subscription(batch_seconds=3 * HEAVY_SECONDS)
    subscribe(events_runtime.sessions, sub)
    ids = publish_pings(events_runtime, 100)  # ten seconds of work
    dispatcher = EventDispatcher(events_runtime.sessions, [sub], REGISTRY, poll_seconds=0.05)

    async def scenario() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        await _until(lambda: cursor_of(events_runtime, "backlog") > 0, seconds=20)
        stop.set()
        stopped = time.monotonic()
        await asyncio.wait_for(task, timeout=20)
        return time.monotonic() - stopped

    took = run(scenario())
    assert took < 2.0, f"the stop waited {took:.1f} s"  # a slice is ~0.3 s; the backlog 10 s
    assert 0 < cursor_of(events_runtime, "backlog") < ids[-1]


@pytest.fixture
def sqlite_events(sqlite_runtime: Runtime) -> Runtime:
    return with_test_topics(sqlite_runtime)


@dataclass
class Writer:
    """Another writer of the same SQLite file (a web request, a job): a short transaction every
    50 ms, refused if the write lock stays taken past its busy timeout."""

    engine: Engine
    waits: list[float] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.done.wait(0.05):
            asked = time.monotonic()
            try:
                with self.engine.connect() as connection:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")  # waits for the write lock
                    self.waits.append(time.monotonic() - asked)
                    connection.execute(HANDLED.insert().values(subscriber="writer", event_id=0))
                    connection.commit()
            except OperationalError as error:
                self.refused.append(str(error.orig))


@pytest.fixture
def writer(sqlite_events: Runtime) -> Iterator[Writer]:
    # Two seconds' patience, not the default five: the bound shown is well inside it.
    engine = make_engine(str(sqlite_events.engine.url), Timeouts(lock=2.0))
    writer = Writer(engine)
    thread = threading.Thread(target=writer.run, name="other-writer")
    thread.start()
    yield writer
    writer.done.set()
    thread.join(timeout=10)
    engine.dispose()


def test_other_writers_get_the_sqlite_lock_while_a_backlog_is_worked_through(
    sqlite_events: Runtime, writer: Writer
) -> None:
    """Without the dispatcher's pacing the subscriber took the lock again within a millisecond
    of each commit, and a writer asleep in SQLite's busy handler waited out its timeout."""
    slices = Slices("backlog")
    sub = slices.subscription(batch_seconds=3 * HEAVY_SECONDS)
    subscribe(sqlite_events.sessions, sub)
    ids = publish_pings(sqlite_events, 30)  # three seconds of work
    dispatcher = EventDispatcher(sqlite_events.sessions, [sub], REGISTRY, poll_seconds=0.05)
    assert isinstance(dispatcher.pacing, Pacing)
    before = len(writer.waits)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        try:
            await _until(lambda: cursor_of(sqlite_events, "backlog") >= ids[-1], seconds=30)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=20)

    run(scenario())
    assert writer.refused == []
    assert len(writer.waits) - before >= 10, "the writer wrote all along"
    assert max(writer.waits) < 1.5, f"longest wait {max(writer.waits):.2f} s"
    assert len(slices.batches) >= 10 and max(map(len, slices.batches)) <= 3
    assert dispatcher.pacing.pauses >= 3
    assert handled_ids(sqlite_events.engine, "backlog") == ids


def test_a_pacing_turn_rests_once_the_deliveries_had_their_share() -> None:
    clock = FakeClock()
    pacing = Pacing(hold_seconds=0.5, pause_seconds=0.15, clock=clock, sleep=clock.sleep)
    for _ in range(2):
        with pacing.turn():
            clock.now += 0.3  # a delivery holding the write lock 0.3 s
    assert clock.slept == [] and pacing.pauses == 0
    with pacing.turn():  # 0.6 s held in a row: the lock is left free first
        assert clock.slept == [pytest.approx(0.15)]
    clock.now += 0.2  # free for longer than a pause: a new count
    with pacing.turn():
        clock.now += 0.4
    with pacing.turn():
        pass
    assert pacing.pauses == 1


def test_pacing_turns_are_taken_in_the_order_asked() -> None:
    pacing = Pacing(hold_seconds=60, pause_seconds=0)
    order: list[str] = []
    first_inside, release_first = threading.Event(), threading.Event()

    def first() -> None:
        with pacing.turn():
            first_inside.set()
            release_first.wait(10)
            order.append("first")

    def later(name: str, asked: threading.Event) -> None:
        asked.set()
        with pacing.turn():
            order.append(name)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert first_inside.wait(10)
    for name in ("second", "third"):
        asked = threading.Event()
        threads.append(threading.Thread(target=later, args=(name, asked)))
        threads[-1].start()
        assert asked.wait(10)
        _wait_for_waiters(pacing, len(threads) - 1)
    release_first.set()
    for thread in threads:
        thread.join(10)
    assert order == ["first", "second", "third"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _wait_for_waiters(pacing: Pacing, waiting: int) -> None:
    """Until ``waiting`` threads besides the holder have taken a ticket (bounded: 10 s)."""
    deadline = time.monotonic() + 10
    while pacing._next_ticket - pacing._serving - 1 < waiting:
        assert time.monotonic() < deadline
        time.sleep(0.005)


async def _until(condition, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not await asyncio.to_thread(condition):
        assert time.monotonic() < deadline, f"not within {seconds:g} s"
        await asyncio.sleep(0.05)
