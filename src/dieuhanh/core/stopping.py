"""Stopping a long-running command on SIGINT or SIGTERM, whatever its parent left behind.

A shell started in the background (``cmd &``, ``nohup``, some CI runners) starts its children
with SIGINT ignored, and Python then installs no KeyboardInterrupt handler: Ctrl-C (or a test's
SIGINT) would be ignored and the command would run for ever. SIGTERM's default action kills the
process without running any ``finally``. So every command that runs until stopped installs its
own handlers for both (``signal.signal`` replaces an inherited SIG_IGN) and leaves by
:class:`StopRequested`, a ``SystemExit`` with status 0: clean-up code runs, the exit is a success.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequested(SystemExit):
    """Raised in the main thread by a stop signal; exits with status 0 unless caught."""

    def __init__(self, signum: int) -> None:
        super().__init__(0)
        self.signal_name = signal.Signals(signum).name


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    log.info("stopping on %s", signal.Signals(signum).name)
    raise StopRequested(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block SIGINT and SIGTERM raise :class:`StopRequested` in the main thread.

    Servers that install their own handlers inside the block (uvicorn, an asyncio loop's
    ``add_signal_handler``) take precedence while they run; uvicorn re-raises the signal it
    handled once it has shut down, which then lands here and ends the command with status 0."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (and receives signals)
        return
    previous = {signum: signal.signal(signum, _raise_stop) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
