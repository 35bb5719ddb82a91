"""One way to run everything that polls: connector syncs, camera probes, rule checks.

Each job runs in a worker thread at its interval; a failure is logged, counted and retried with
a doubling wait; its last success and last error are visible (``GET /api/v1/jobs``). The demo runs
the scheduler inside the web process; production runs it in ``dieuhanh worker``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from dieuhanh.core.db.base import utcnow

log = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    interval_seconds: float
    run: Callable[[], object]
    max_backoff_seconds: float = 600


@dataclass
class JobState:
    name: str
    interval_seconds: float
    runs: int = 0
    failures: int = 0  # in a row
    running: bool = False
    last_started_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None
    last_duration_s: float | None = None
    last_result: str | None = None


@dataclass
class Scheduler:
    jobs: list[Job]
    states: dict[str, JobState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.states = {job.name: JobState(job.name, job.interval_seconds) for job in self.jobs}

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(*(self._loop(job, stop) for job in self.jobs))

    async def _loop(self, job: Job, stop: asyncio.Event) -> None:
        state = self.states[job.name]
        while not stop.is_set():
            wait = await self._run_once(job, state)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)

    async def _run_once(self, job: Job, state: JobState) -> float:
        state.running, state.last_started_at = True, utcnow()
        started = time.monotonic()
        try:
            result = await asyncio.to_thread(job.run)
        except Exception as exc:  # reported and retried, never fatal to the process
            state.failures += 1
            state.last_error_at, state.last_error = utcnow(), f"{type(exc).__name__}: {exc}"[:500]
            log.exception("job %s failed (%d in a row)", job.name, state.failures)
            return min(job.interval_seconds * 2.0**state.failures, job.max_backoff_seconds)
        finally:
            state.running = False
            state.runs += 1
            state.last_duration_s = round(time.monotonic() - started, 3)
        state.failures = 0
        state.last_success_at = utcnow()
        state.last_result = None if result is None else str(result)[:500]
        return job.interval_seconds
