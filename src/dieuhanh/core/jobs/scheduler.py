"""One way to run everything that polls: connector syncs, camera probes, rule checks.

A job's state lives in the ``jobs`` table, not in the process: every process (a ``serve``
replica with no scheduler too) reads the same last run, error and next run, and any number of
schedulers (``dieuhanh worker`` processes, the demo's web process) share the work. Before a run a
scheduler claims the job with one conditional UPDATE; only the claimant runs it, holding a lease
that expires on its own if the process dies mid-run. A failure is recorded as a sentence a person
can act on and retried with a doubling wait, stored as the job's next run.

Time comes from an injected clock, so tests move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from dieuhanh.core.db.base import utcnow
from dieuhanh.core.jobs import store
from dieuhanh.core.jobs.describe import describe_error
from dieuhanh.core.jobs.models import NAME_LENGTH

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# How long a scheduler may go without looking at a job's row: bounds how late it notices a run
# requested by a person or a job freed by another process.
POLL_SECONDS = 5.0
MIN_WAIT_SECONDS = 0.2
MIN_LEASE_SECONDS = 60.0


@dataclass
class Job:
    """``run`` is called in a worker thread; what it returns is shown as the last result.

    ``timeout_seconds`` bounds one run: past it the run's lease expires and another process may
    run the job again (default: twice the interval, at least a minute).
    """

    name: str
    interval_seconds: float
    run: Callable[[], object]
    max_backoff_seconds: float = 600
    description: str = ""
    timeout_seconds: float | None = None

    @property
    def lease_seconds(self) -> float:
        if self.timeout_seconds is not None:
            return self.timeout_seconds
        return max(MIN_LEASE_SECONDS, 2 * self.interval_seconds)

    def backoff_seconds(self, failures_in_a_row: int) -> float:
        return min(self.interval_seconds * 2.0**failures_in_a_row, self.max_backoff_seconds)

    def definition(self) -> store.Definition:
        return store.Definition(
            self.name, self.description, self.interval_seconds, self.lease_seconds
        )


def process_identity() -> str:
    """host:pid:token — the token tells a restarted process from the one that held a lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Scheduler:
    def __init__(
        self,
        jobs: Sequence[Job],
        sessions: sessionmaker[Session],
        *,
        clock: Clock = utcnow,
        process: str | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        names = [job.name for job in jobs]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"two jobs share the name {', '.join(duplicates)}")
        too_long = [name for name in names if not 0 < len(name) <= NAME_LENGTH]
        if too_long:
            raise ValueError(f"a job's name has 1 to {NAME_LENGTH} characters: {too_long}")
        self.jobs = list(jobs)
        self.sessions = sessions
        self.clock = clock
        self.process = process or process_identity()
        self.poll_seconds = poll_seconds

    def register(self) -> None:
        """Make the jobs known to every process (their state, if any, is kept)."""
        with self.sessions() as session:
            store.register(session, [job.definition() for job in self.jobs], self.clock())
            session.commit()

    def run_due(self) -> list[str]:
        """Run, one after the other, every job due now that no process holds; their names."""
        return [job.name for job in self.jobs if self.attempt(job)]

    def attempt(self, job: Job) -> bool:
        """Claim and run the job if it is due and free; whether this process ran it."""
        with self.sessions() as session:
            run = store.claim(session, job.name, self.process, self.clock())
            failures = store.failures_in_a_row(session, job.name)
            session.commit()
        if run is None:
            return False
        outcome = self._execute(job, failures)
        with self.sessions() as session:
            recorded = store.finish(session, run, outcome)
            session.commit()
        if not recorded:
            log.warning(
                "job %s outlived its %g s lease and was taken over; its result is dropped",
                job.name,
                job.lease_seconds,
            )
        return True

    def _execute(self, job: Job, failures_before: int) -> store.Outcome:
        started = time.monotonic()
        try:
            result = job.run()
        except Exception as exc:  # recorded and retried, never fatal to the process
            failures = failures_before + 1
            log.exception("job %s failed (%d in a row)", job.name, failures)
            finished = self.clock()
            return store.Outcome(
                finished_at=finished,
                duration_s=time.monotonic() - started,
                next_run_at=finished + timedelta(seconds=job.backoff_seconds(failures)),
                error=describe_error(exc),
            )
        finished = self.clock()
        return store.Outcome(
            finished_at=finished,
            duration_s=time.monotonic() - started,
            next_run_at=finished + timedelta(seconds=job.interval_seconds),
            result=None if result is None else str(result),
        )

    def seconds_until_due(self, job: Job) -> float:
        """How long to wait before looking at the job again (at most ``poll_seconds``)."""
        now = self.clock()
        with self.sessions() as session:
            moment = store.due_or_leased(store.get(session, job.name), now)
        if moment is None:
            return self.poll_seconds
        return min(max((moment - now).total_seconds(), MIN_WAIT_SECONDS), self.poll_seconds)

    async def run(self, stop: asyncio.Event) -> None:
        if not await self._register_until_done(stop):
            return
        await asyncio.gather(*(self._loop(job, stop) for job in self.jobs))

    async def _register_until_done(self, stop: asyncio.Event) -> bool:
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.register)
                return True
            except Exception as exc:  # the database may come up after the worker
                log.warning("cannot register the jobs, retrying: %s", describe_error(exc))
                await _wait(stop, self.poll_seconds)
        return False

    async def _loop(self, job: Job, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.attempt, job)
                wait = await asyncio.to_thread(self.seconds_until_due, job)
            except Exception as exc:  # the job table unreachable: the job is retried later
                log.warning(
                    "job %s: cannot read or write its state: %s", job.name, describe_error(exc)
                )
                wait = self.poll_seconds
            await _wait(stop, wait)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
