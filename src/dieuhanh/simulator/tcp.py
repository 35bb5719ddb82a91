"""A TCP listener whose connection handlers are tracked, so ``close()`` leaves nothing running."""

from __future__ import annotations

import asyncio

CLOSE_TIMEOUT = 5.0  # seconds for handlers to notice their socket is gone


class TrackedServer:
    """Subclasses implement :meth:`handle`; one call per accepted connection."""

    stream_limit = 64 * 1024  # largest line or head a handler may read at once

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen and return the bound port (port 0 picks a free one)."""
        self._server = await asyncio.start_server(self._track, host, port, limit=self.stream_limit)
        bound: int = self._server.sockets[0].getsockname()[1]
        return bound

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        # Aborting the sockets ends each handler through its own read error; cancelling a
        # start_server handler instead makes asyncio log the CancelledError as an error.
        for writer in self._connections.values():
            writer.transport.abort()
        if self._connections:
            _, pending = await asyncio.wait(list(self._connections), timeout=CLOSE_TIMEOUT)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _track(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        try:
            await self.handle(reader, writer)
        except ConnectionError:
            pass  # the peer reset the connection: nothing to answer
        finally:
            del self._connections[task]
            writer.close()
