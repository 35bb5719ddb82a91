"""The simulator's RTSP server: many simulated cameras behind one asyncio TCP listener."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path

from dieuhanh.simulator.camera import SimulatedCamera
from dieuhanh.simulator.connection import ConnectionSettings, RtspConnection
from dieuhanh.simulator.live_source import LiveSettings, LiveSources
from dieuhanh.simulator.media import MediaLibrary
from dieuhanh.simulator.mounts import MountTable
from dieuhanh.simulator.rtsp import MAX_HEAD
from dieuhanh.simulator.tcp import TrackedServer

logger = logging.getLogger(__name__)


class RtspServer(TrackedServer):
    """Serves ``rtsp://host:port{camera.path}`` for each camera; unknown paths get 404.

    ``live`` tunes the live encoders (idle period before one stops, start-up timeout).
    """

    stream_limit = MAX_HEAD

    def __init__(
        self,
        cameras: Iterable[SimulatedCamera],
        *,
        cache_dir: Path | None = None,
        settings: ConnectionSettings | None = None,
        live: LiveSettings | None = None,
    ) -> None:
        super().__init__()
        self.cameras = tuple(cameras)
        self.settings = settings or ConnectionSettings()
        self._library = MediaLibrary(cache_dir, live)
        self._mounts: MountTable | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Prepare every mount's media, listen, and return the bound port."""
        loop = asyncio.get_running_loop()
        # Encoding takes tens of milliseconds a clip: kept off the event loop all the same.
        self._mounts = await loop.run_in_executor(None, MountTable, self.cameras, self._library)
        bound = await super().start(host, port)
        logger.info("RTSP simulator on %s:%d with %d cameras", host, bound, len(self.cameras))
        return bound

    @property
    def live_sources(self) -> LiveSources:
        """One per live encoding spec in use by the mounts; each starts on first use."""
        return self._library.live

    async def close(self) -> None:
        await super().close()
        await self._library.live.close()  # after the connections: nobody is subscribed now

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._mounts is not None
        await RtspConnection(self._mounts, self.settings, reader, writer).serve()
