"""PostgreSQL wake-ups: a dedicated connection LISTENs on the events channel.

``publish`` queues ``pg_notify`` inside the publishing transaction, so the notification is sent
when (and only if) the transaction commits: a dispatcher in another process wakes within a
millisecond or so instead of polling. A notification only says "look again"; the log is the
truth, so a lost notification costs latency, never an event. While the connection is down the
dispatcher polls at ``events.poll_seconds`` and reconnects with a doubling wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import URL

from dieuhanh.core.events.log import CHANNEL

log = logging.getLogger(__name__)
RESUME = "resume"  # payload of the notification sent when a person resumes a subscriber
WAIT_SECONDS = 1.0  # longest wait for a notification before looking at ``stop`` again
MAX_RECONNECT_SECONDS = 30.0


def conninfo(url: URL) -> str:
    """The SQLAlchemy URL as psycopg's own connection string (same host, user, password)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    def __init__(self, url: URL, wake: Callable[[str], None]) -> None:
        self._conninfo = conninfo(url)
        self._wake = wake
        self.connected = False

    async def run(self, stop: asyncio.Event) -> None:
        delay = 0.5
        while not stop.is_set():
            try:
                await self._listen(stop)
                delay = 0.5
            except (psycopg.Error, OSError) as exc:
                log.warning("event notifications unavailable (%s); polling until reconnected", exc)
            finally:
                self.connected = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, MAX_RECONNECT_SECONDS)

    async def _listen(self, stop: asyncio.Event) -> None:
        connection = await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=5
        )
        async with connection:
            await connection.execute(f"LISTEN {CHANNEL}")
            self.connected = True
            self._wake("")  # anything committed while nobody listened
            while not stop.is_set():
                async for notification in connection.notifies(timeout=WAIT_SECONDS):
                    self._wake(notification.payload)
