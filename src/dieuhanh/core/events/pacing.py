"""Taking turns at SQLite's one write lock while subscribers work through a backlog.

SQLite lets one connection write at a time. A writer that finds the file locked does not queue:
its busy handler sleeps and tries again, at most 100 ms apart (SQLite's default busy handler),
and gives up with "database is locked" after ``busy_timeout`` (the setting
``database.lock_timeout_seconds``, 5 s by default). A subscriber working through a backlog (after
the demo's seed, a restart, a big import) commits a batch and begins the next within a
millisecond, so a writer asleep in its busy handler almost never finds the lock free: before this
gate, the demo's first minute had a job, a sync or another subscriber refused 8 to 23 times
while ``indicators.bands`` worked through the seed's ``data_values.changed`` events.

So the dispatcher's deliveries on SQLite go through one ``Pacing`` gate:

- one delivery at a time per process, in turn (they would wait for the same lock anyway, but
  in SQLite's busy handler, where the one that just committed always wins — and a plain
  ``threading.Lock`` is no fairer: the subscriber that just let it go takes it again, and the
  alerts would wait for the indicators' whole backlog);
- once they have held the write lock for ``hold_seconds`` in a row, the next delivery waits
  ``pause_seconds`` with the lock free — longer than the busy handler's longest sleep, so every
  writer waiting then tries again inside the pause and gets its turn.

A writer outside the dispatcher thus waits at most about ``hold_seconds`` plus one delivery's
transaction (bounded by ``Subscription.batch_seconds``) plus the pause; catching up costs the
subscribers about ``pause / (hold + pause)`` of their speed, only while they have a backlog (a
delivery after a free spell of ``pause_seconds`` starts a new count). PostgreSQL locks rows,
not the database: the dispatcher uses no gate there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

HOLD_SECONDS = 0.5
PAUSE_SECONDS = 0.15  # SQLite's busy handler sleeps at most 100 ms between tries


class Pacing:
    def __init__(
        self,
        hold_seconds: float = HOLD_SECONDS,
        pause_seconds: float = PAUSE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.hold_seconds = hold_seconds
        self.pause_seconds = pause_seconds
        self._clock, self._sleep = clock, sleep
        self._turns = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._held = 0.0  # write-lock time since the last free spell of pause_seconds
        self._last_end: float | None = None
        self.pauses = 0  # how many times a delivery waited for others to write (for tests)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the gate for one delivery, in the order asked; wait first if the deliveries
        had their share of the write lock."""
        with self._turns:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._turns.wait_for(lambda: self._serving == ticket)
        try:
            self._rest_if_due()
            started = self._clock()
            try:
                yield
            finally:
                self._last_end = self._clock()
                self._held += self._last_end - started
        finally:
            with self._turns:
                self._serving += 1
                self._turns.notify_all()

    def _rest_if_due(self) -> None:
        if self._last_end is None:
            return
        free = self._clock() - self._last_end
        if self._held >= self.hold_seconds and free < self.pause_seconds:
            self.pauses += 1
            self._sleep(self.pause_seconds - free)
            free = self.pause_seconds
        if free >= self.pause_seconds:
            self._held = 0.0
