"""Noticing when the gateway's event loop is held up, and naming the stream that held it.

Every native pull handles its camera's bytes on the event loop; a camera (or a bug) that makes
one handler run long delays every other camera and the API with it. The watchdog sleeps a short
interval and measures how late it wakes; handlers charge the time they spent to their stream, so
a late wake-up names the stream whose handling took longest since the previous one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class LoopWatchdog:
    def __init__(self, interval: float = 0.05, threshold: float = 0.1) -> None:
        self.interval = interval
        self.threshold = threshold
        self.last_lag = 0.0  # seconds the last wake-up came late
        self.max_lag = 0.0
        self.warnings = 0
        self.blamed: str | None = None  # the stream named by the last warning
        self._longest: tuple[float, str] | None = None  # since the last wake-up
        self._task: asyncio.Task[None] | None = None

    def charge(self, stream: str, seconds: float) -> None:
        """A handler of ``stream`` ran for ``seconds`` on the loop."""
        if self._longest is None or seconds > self._longest[0]:
            self._longest = (seconds, stream)

    def charger(self, stream: str) -> Callable[[float], None]:
        return lambda seconds: self.charge(stream, seconds)

    def start(self) -> None:
        """Watch the running loop (once; a second call does nothing)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-watchdog")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            expected = time.monotonic() + self.interval
            await asyncio.sleep(self.interval)
            self.check(time.monotonic() - expected)

    def check(self, lag: float) -> None:
        """Record a wake-up ``lag`` seconds late; warn, naming a stream, beyond the threshold."""
        longest, self._longest = self._longest, None
        self.last_lag = max(lag, 0.0)
        self.max_lag = max(self.max_lag, self.last_lag)
        if lag <= self.threshold:
            return
        self.warnings += 1
        if longest is None:
            self.blamed = None
            log.warning("event loop blocked for %.0f ms; no stream handler ran meanwhile",
                        lag * 1000)  # fmt: skip
            return
        seconds, stream = longest
        if seconds < self.threshold / 2:
            # Something else held the loop (another task, the machine itself): naming a stream
            # whose handler took a millisecond would send the reader the wrong way.
            self.blamed = None
            log.warning("event loop blocked for %.0f ms, not by a stream handler (longest: %s, "
                        "%.0f ms)", lag * 1000, stream, seconds * 1000)  # fmt: skip
            return
        self.blamed = stream
        log.warning("event loop blocked for %.0f ms; longest stream handler: %s (%.0f ms)",
                    lag * 1000, stream, seconds * 1000)  # fmt: skip
