"""Delivering events to one subscriber: a batch in one transaction, the cursor moved with it.

A batch locks the subscriber's cursor row, reads the next events of its topics (never past the
horizon, see ``horizon``), and calls the handler once per event inside a savepoint. The handler's
database changes and the cursor's advance commit together, so a change a handler makes happens
exactly once; anything else it does (a file, a mail) happens at least once, since a process
killed before the commit delivers the batch again on restart.

A handler that raises on an event: its savepoint is rolled back, the events before it in the batch
are kept (committed with the cursor), and the subscriber waits ``backoff_seconds`` (doubling, up to
``max_backoff_seconds``) before the next try of the same event. After ``max_attempts`` failures in
a row it is parked: it stops until a person resumes it (``cursors.resume``), with the error, the
event and the time visible in ``GET /api/v1/events/subscribers``. Other subscribers have their own
cursors and go on; later events of a failing subscriber wait, so each subscriber sees its events
in id order.

A subscriber may also give a ``batch_handler``: the whole batch in one savepoint, so its changes
are flushed once per batch rather than once per event. If it raises, that savepoint is rolled
back and the batch is handled again event by event (``prepare``, then ``handler`` in a savepoint
each) to keep the good prefix and fail on the same event as without it.

A batch's transaction is bounded in time, not only in events: a backlog of heavy events (a
``data_values.changed`` of a hundred units after an import) is delivered in slices of about
``batch_seconds``, each committed with its cursor, so that the write lock (SQLite's only one) is
let go between them and a stop waits for one slice, not for the backlog. Event by event, a batch
takes no further event once the slowest so far would carry it past ``batch_seconds``; a batch
handled at once cannot be cut, so ``run_until_idle`` sizes the next batch from the last one's
speed. On SQLite the dispatcher also paces the slices (``pacing``) so that other writers get the
lock between them.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Row, select, text, update
from sqlalchemy.orm import Session

from dieuhanh.core.events.cursors import EventSubscriber, topic_filter
from dieuhanh.core.events.log import EventRecord
from dieuhanh.core.events.pacing import Pacing
from dieuhanh.core.events.topics import EventError, TopicRegistry

SUBSCRIBER_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*")
Handler = Callable[[Session, EventRecord], None]
# Called once with a batch's events before they are handled one by one: to load in one query
# what the handler will need for all of them (a subscriber evaluating rules loads the memory of
# every rule × subject the batch touches). Its failure counts as the first event's.
Prepare = Callable[[Session, list[EventRecord]], None]
# Handles a whole batch at once: must do what ``prepare`` then ``handler`` for each event in order
# would do. It runs in one savepoint; on a failure the kernel redoes the batch event by event.
BatchHandler = Callable[[Session, list[EventRecord]], None]
_CURSORS = EventSubscriber.__table__
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subscription:
    """A named reader of the log. ``name`` is its identity in the database: renaming it starts a
    new cursor. ``topics`` are topic names or prefix patterns (``camera.*``)."""

    name: str
    topics: tuple[str, ...]
    handler: Handler
    start: Literal["latest", "earliest"] = "latest"  # where a new subscriber's cursor begins
    prepare: Prepare | None = None
    # Optional, for speed: one savepoint per batch instead of one per event. ``batch_seconds``
    # cannot cut a batch handled this way: it sizes the next one (``batch_size`` at most).
    batch_handler: BatchHandler | None = None
    batch_size: int = 100
    # How long a batch's transaction may hold its locks: a batch commits after about this long
    # even if not full (longer only by one event slower than every one before it).
    batch_seconds: float = 1.0
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 300.0

    def check(self, registry: TopicRegistry) -> None:
        if len(self.name) > 100 or not SUBSCRIBER_NAME.fullmatch(self.name):
            raise EventError(
                f"subscriber name {self.name!r} must be dotted lower-case words such as "
                "'alerts.camera_state', at most 100 characters"
            )
        if not self.topics:
            raise EventError(f"subscriber {self.name!r} follows no topic")
        for selector in self.topics:
            registry.resolve(selector)
        if (
            self.batch_size < 1
            or self.max_attempts < 1
            or self.backoff_seconds < 0
            or self.batch_seconds <= 0
        ):
            raise EventError(
                f"subscriber {self.name!r}: batch_size and max_attempts must be at least 1, "
                "backoff_seconds not negative, batch_seconds above 0"
            )

    def backoff(self, failures: int) -> timedelta:
        seconds = self.backoff_seconds * 2.0 ** max(0, failures - 1)
        return timedelta(seconds=min(seconds, self.max_backoff_seconds))


@dataclass(frozen=True)
class Outcome:
    delivered: int = 0
    more: bool = False  # the batch stopped early (full or out of time): call again
    busy: bool = False  # another process is delivering this subscriber
    parked: bool = False
    retry_at: datetime | None = None  # failing: not before then


def deliver_batch(
    session: Session,
    subscription: Subscription,
    horizon: int,
    now: datetime,
    limit: int | None = None,
) -> Outcome:
    """Deliver the next events (``limit``, else ``batch_size``, at most) up to id ``horizon``;
    commits the session's transaction."""
    limit = min(limit or subscription.batch_size, subscription.batch_size)
    cursor = _lock(session, subscription.name)
    if cursor is None:
        session.rollback()
        return Outcome(busy=True)
    if cursor.parked_at is not None:
        session.rollback()
        return Outcome(parked=True)
    if cursor.retry_at is not None and cursor.retry_at > now:
        session.rollback()
        return Outcome(retry_at=cursor.retry_at)
    events = session.scalars(
        select(EventRecord)
        .where(
            EventRecord.id > cursor.last_event_id,
            EventRecord.id <= horizon,
            topic_filter(subscription.topics),
        )
        .order_by(EventRecord.id)
        .limit(limit)
    ).all()
    handled, failure = _handle(session, subscription, list(events))
    full = len(events) >= limit
    outcome = _record(session, subscription, cursor, horizon, full, events, handled, failure, now)
    session.commit()
    return outcome


def _lock(session: Session, name: str) -> Row[Any] | None:
    if session.get_bind().dialect.name == "sqlite":
        # Take the write lock first: a second process waits here rather than reading the same
        # cursor and failing at its first write after handling the batch.
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
    else:
        # A delivery need not wait for its WAL flush: if the server crashes before the flush,
        # the handler's changes and the cursor's advance are lost together and the batch is
        # delivered again, so nothing is lost or done twice; the events themselves are durable.
        session.execute(text("SET LOCAL synchronous_commit TO off"))
    statement = select(_CURSORS).where(_CURSORS.c.name == name).with_for_update(skip_locked=True)
    return session.execute(statement).one_or_none()


def _handle(
    session: Session, subscription: Subscription, events: list[EventRecord]
) -> tuple[list[EventRecord], tuple[EventRecord, Exception] | None]:
    if subscription.batch_handler is not None and events:
        try:
            with session.begin_nested():
                subscription.batch_handler(session, events)
        except Exception as exc:
            # Which event failed, and which before it to keep, is known only event by event;
            # ``prepare`` runs again since what it built refers to rolled-back rows.
            _log.warning(
                "subscriber %s: its batch of %d events failed (%s: %s); handling them one by one",
                subscription.name, len(events), type(exc).__name__, exc,
            )  # fmt: skip
        else:
            return events, None
    return _handle_each(session, subscription, events)


def _handle_each(
    session: Session, subscription: Subscription, events: list[EventRecord]
) -> tuple[list[EventRecord], tuple[EventRecord, Exception] | None]:
    handled: list[EventRecord] = []
    deadline = time.monotonic() + subscription.batch_seconds
    slowest = 0.0
    if subscription.prepare is not None and events:
        try:
            with session.begin_nested():
                subscription.prepare(session, events)
        except Exception as exc:
            return handled, (events[0], exc)
    for record in events:
        started = time.monotonic()
        try:
            with session.begin_nested():
                subscription.handler(session, record)
        except Exception as exc:  # the handler's bug: recorded on the cursor, retried, parked
            return handled, (record, exc)
        handled.append(record)
        finished = time.monotonic()
        slowest = max(slowest, finished - started)
        if finished + slowest > deadline:  # the next one may well not fit: commit these
            break
    return handled, None


def _record(
    session: Session,
    subscription: Subscription,
    cursor: Row[Any],
    horizon: int,
    full: bool,
    events: list[EventRecord] | Any,
    handled: list[EventRecord],
    failure: tuple[EventRecord, Exception] | None,
    now: datetime,
) -> Outcome:
    values: dict[str, Any] = {"updated_at": now}
    complete = failure is None and len(handled) == len(events)
    if handled:
        values.update(last_event_id=handled[-1].id, delivered_at=now)
    if complete and not full and horizon > cursor.last_event_id:
        # Every event of its topics up to the horizon is handled: skip the others' ids too.
        values["last_event_id"] = horizon
    if failure is None:
        if handled or cursor.failures:
            values.update(failures=0, failing_event_id=None, retry_at=None)
        elif "last_event_id" not in values:
            return Outcome()
        session.execute(
            update(EventSubscriber).where(EventSubscriber.name == cursor.name).values(values)
        )
        return Outcome(delivered=len(handled), more=not complete or full)
    record, exc = failure
    same = cursor.failing_event_id == record.id
    failures = (cursor.failures if same else 0) + 1
    parked = failures >= subscription.max_attempts
    retry_at = None if parked else now + subscription.backoff(failures)
    values.update(
        failures=failures,
        failing_event_id=record.id,
        retry_at=retry_at,
        parked_at=now if parked else None,
        last_error=f"event #{record.id} ({record.topic}): {type(exc).__name__}: {exc}"[:2000],
        last_error_at=now,
    )
    session.execute(
        update(EventSubscriber).where(EventSubscriber.name == cursor.name).values(values)
    )
    return Outcome(delivered=len(handled), parked=parked, retry_at=retry_at)


def run_until_idle(
    session_factory: Callable[[], Session],
    subscription: Subscription,
    horizon: int,
    now: Callable[[], datetime],
    *,
    stopping: Callable[[], bool] = lambda: False,
    pacing: Pacing | None = None,
) -> Outcome:
    """Deliver batches until caught up to the horizon, stopped by a failure or another process,
    or ``stopping()`` (checked before each batch: a stop waits for one batch, not the backlog).

    Each batch is its own transaction. ``pacing`` (the dispatcher's, on SQLite) spaces them so
    that other writers get the write lock in between."""
    delivered = 0
    sizing = _Sizing(subscription)
    while True:
        turn: AbstractContextManager[None] = pacing.turn() if pacing else nullcontext()
        with turn:
            if stopping():
                return Outcome(delivered=delivered, more=True)
            started = time.monotonic()
            with session_factory() as session:
                outcome = deliver_batch(session, subscription, horizon, now(), sizing.limit)
            sizing.took(outcome.delivered, time.monotonic() - started)
        delivered += outcome.delivered
        if not outcome.more:
            return Outcome(
                delivered=delivered,
                busy=outcome.busy,
                parked=outcome.parked,
                retry_at=outcome.retry_at,
            )


class _Sizing:
    """How many events the next batch takes. A batch handled event by event stops itself at
    ``batch_seconds``; one handled at once cannot, so after a batch that overran it the next
    takes as many events as fitted, then doubles again (up to ``batch_size``) while batches
    take less than half of it."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        self.limit = subscription.batch_size

    def took(self, delivered: int, seconds: float) -> None:
        budget = self.subscription.batch_seconds
        if self.subscription.batch_handler is None or not delivered:
            return
        if seconds > budget:
            self.limit = max(1, int(delivered * budget / seconds))
        elif seconds < budget / 2:
            self.limit = min(self.subscription.batch_size, self.limit * 2)
