"""The dispatcher: runs every subscription of a process, each as its own asyncio task.

One task keeps the delivery horizon (``horizon``) and wakes the subscribers when it moves; it is
woken by PostgreSQL notifications (``notify``) or, on SQLite and while notifications are down,
polls every ``events.poll_seconds``. Each subscriber task delivers batches in a worker thread
(handlers are ordinary blocking code) until it has caught up, waits out a failing handler's
backoff, or leaves the work to another process that holds its cursor.

On SQLite the subscribers' deliveries take turns through one ``Pacing`` gate, which leaves the
write lock free now and then while they work through a backlog, so that the web requests and
jobs of the same file are not refused ("database is locked").

Stopping (``stop`` set) lets the batch in progress finish and commit — a batch is bounded in
time (``Subscription.batch_seconds``), so a stop does not wait for a backlog; a killed process
loses only its uncommitted batch, which the next process delivers again from the cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from dieuhanh.core.db.base import utcnow
from dieuhanh.core.events.cursors import EventSubscriber, ensure_subscribers
from dieuhanh.core.events.delivery import Outcome, Subscription, run_until_idle
from dieuhanh.core.events.horizon import Horizon
from dieuhanh.core.events.notify import RESUME, Listener
from dieuhanh.core.events.pacing import Pacing
from dieuhanh.core.events.topics import EventError, TopicRegistry

if TYPE_CHECKING:
    from dieuhanh.core.runtime import Runtime

log = logging.getLogger(__name__)
LISTENING_RECHECK_SECONDS = 30.0  # with notifications working: a re-read in case one was lost
HOLE_RECHECK_SECONDS = 0.02  # a hole in the ids is open: no notification says when it closes


class EventDispatcher:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        subscriptions: Sequence[Subscription],
        registry: TopicRegistry,
        *,
        poll_seconds: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        names = [subscription.name for subscription in subscriptions]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise EventError(f"subscriber names used twice: {', '.join(duplicates)}")
        for subscription in subscriptions:
            subscription.check(registry)
        self.sessions = sessions
        self.subscriptions = list(subscriptions)
        self.poll_seconds = poll_seconds
        self.clock = clock
        self.horizon = Horizon()
        self.pacing = Pacing() if self.engine.dialect.name == "sqlite" else None
        self.listener: Listener | None = None
        self._refresh = asyncio.Event()
        self._work = {subscription.name: asyncio.Event() for subscription in subscriptions}
        self._parked: set[str] = set()  # warned about once

    @property
    def engine(self) -> Engine:
        bind = self.sessions.kw["bind"]
        assert isinstance(bind, Engine)
        return bind

    def prepare(self) -> None:
        """Create missing cursors; start the horizon at the furthest-behind of them."""
        with self.sessions() as session:
            declared = [(s.name, s.topics, s.start) for s in self.subscriptions]
            ensure_subscribers(session, declared)
            session.commit()
            lowest = session.scalar(
                select(func.min(EventSubscriber.last_event_id)).where(
                    EventSubscriber.name.in_(self._work)
                )
            )
        self.horizon.settled = int(lowest or 0)

    def refresh_horizon(self) -> bool:
        with self.engine.connect() as connection:
            moved = self.horizon.refresh(connection)
            connection.rollback()
        return moved

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.to_thread(self.prepare)
        tasks = [self._horizon_loop(stop)]
        tasks += [self._subscriber_loop(subscription, stop) for subscription in self.subscriptions]
        if self.engine.dialect.name == "postgresql":
            self.listener = Listener(self.engine.url, self._notified)
            tasks.append(self.listener.run(stop))
        await asyncio.gather(*tasks)

    def _notified(self, payload: str) -> None:
        self._refresh.set()
        if payload == RESUME:
            self._wake_all()

    def _wake_all(self) -> None:
        for event in self._work.values():
            event.set()

    @property
    def _idle_seconds(self) -> float:
        listening = self.listener is not None and self.listener.connected
        return LISTENING_RECHECK_SECONDS if listening else self.poll_seconds

    async def _horizon_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if await asyncio.to_thread(self.refresh_horizon):
                    self._wake_all()
            except Exception:  # the database is away: try again at the next poll
                log.exception("reading the event log failed")
            wait = HOLE_RECHECK_SECONDS if self.horizon.waiting else self._idle_seconds
            await _wait_for(self._refresh, stop, wait)
            self._refresh.clear()

    async def _subscriber_loop(self, subscription: Subscription, stop: asyncio.Event) -> None:
        work = self._work[subscription.name]
        work.set()
        while not stop.is_set():
            await _wait_for(work, stop, self._idle_seconds)
            if stop.is_set():
                return
            work.clear()
            try:
                outcome = await asyncio.to_thread(
                    run_until_idle,
                    self.sessions,
                    subscription,
                    self.horizon.settled,
                    self.clock,
                    stopping=stop.is_set,  # a flag read from the worker thread
                    pacing=self.pacing,
                )
            except Exception:  # not the handler (that is recorded): the database itself
                log.exception("delivering events to %s failed", subscription.name)
                await _wait_for(asyncio.Event(), stop, self.poll_seconds)
                work.set()
                continue
            await self._after(outcome, subscription, work, stop)

    async def _after(
        self, outcome: Outcome, subscription: Subscription, work: asyncio.Event, stop: asyncio.Event
    ) -> None:
        if outcome.retry_at is not None:
            delay = (outcome.retry_at - self.clock()).total_seconds()
            await _wait_for(asyncio.Event(), stop, max(0.0, delay))
            work.set()
        elif outcome.busy:
            # Another process holds this cursor; take over if it stops.
            await _wait_for(asyncio.Event(), stop, self.poll_seconds)
            work.set()
        elif outcome.parked and subscription.name not in self._parked:
            log.warning("event subscriber %s is parked; resume it to go on", subscription.name)
        if outcome.parked:
            self._parked.add(subscription.name)
        else:
            self._parked.discard(subscription.name)


async def _wait_for(event: asyncio.Event, stop: asyncio.Event, timeout: float) -> None:
    """Until ``event`` or ``stop`` is set, or ``timeout`` seconds pass."""
    waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*waiters, return_exceptions=True)


async def run_dispatcher(
    runtime: Runtime, subscriptions: Sequence[Subscription], stop: asyncio.Event
) -> None:
    """Deliver to ``subscriptions`` until ``stop`` is set (what ``worker`` and ``demo`` run)."""
    dispatcher = EventDispatcher(
        runtime.sessions,
        subscriptions,
        runtime.topics,
        poll_seconds=runtime.settings.events.poll_seconds,
    )
    await dispatcher.run(stop)
