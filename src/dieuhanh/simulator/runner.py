"""Running the asyncio servers from synchronous code (tests, the demo): a thread, its own loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self
from urllib.parse import quote

from dieuhanh.simulator.camera import SimulatedCamera
from dieuhanh.simulator.connection import ConnectionSettings
from dieuhanh.simulator.live_source import LiveSettings
from dieuhanh.simulator.server import RtspServer


class Service(Protocol):
    async def start(self, host: str, port: int) -> int: ...

    async def close(self) -> None: ...


class ServiceThread:
    """Runs ``service`` on an event loop in a daemon thread; ``start()`` returns once it listens."""

    def __init__(self, service: Service, host: str = "127.0.0.1", port: int = 0) -> None:
        self.service, self.host, self.port = service, host, port
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"{type(service).__name__}", daemon=True
        )

    def start(self, timeout: float = 60.0) -> Self:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"{self._thread.name} did not start within {timeout:.0f} s")
        if self._error is not None:
            self._thread.join()
            # The service's own error, not a wrapper: a caller falls back on what it expects
            # (the demo catches OSError when its preferred port is taken).
            raise self._error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close every connection and the listener, then join the thread."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and self._thread.is_alive():
            loop.call_soon_threadsafe(stopping.set)
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"{self._thread.name} did not stop within {timeout:.0f} s")

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"rtsp://{self.address}{path}"

    def __enter__(self) -> Self:
        return self if self._ready.is_set() else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
        try:
            self.port = await self.service.start(self.host, self.port)
        except BaseException as exc:  # reported to start()'s caller, in its thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            await self.service.close()


class SimulatorThread(ServiceThread):
    """The RTSP simulator in a background thread; ``url()`` knows each camera's credentials."""

    def __init__(
        self,
        cameras: Iterable[SimulatedCamera],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        cache_dir: Path | None = None,
        settings: ConnectionSettings | None = None,
        live: LiveSettings | None = None,
    ) -> None:
        self.server = RtspServer(cameras, cache_dir=cache_dir, settings=settings, live=live)
        self.cameras = {camera.path: camera for camera in self.server.cameras}
        super().__init__(self.server, host, port)

    def url(self, path: str = "/", with_credentials: bool = True) -> str:
        """``rtsp://user:pass@host:port/path``; credentials percent-encoded, as URLs need."""
        camera = self.cameras.get(path)
        if not with_credentials or camera is None or camera.username is None:
            return super().url(path)
        userinfo = f"{quote(camera.username, safe='')}:{quote(camera.password or '', safe='')}"
        return f"rtsp://{userinfo}@{self.address}{path}"


def run_simulator(
    cameras: Iterable[SimulatedCamera],
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    cache_dir: Path | None = None,
    settings: ConnectionSettings | None = None,
    live: LiveSettings | None = None,
) -> SimulatorThread:
    """Start the simulator in a background thread; stop it with ``stop()`` or ``with``."""
    thread = SimulatorThread(cameras, host, port, cache_dir=cache_dir, settings=settings, live=live)
    return thread.start()


def run_service(service: Service, host: str = "127.0.0.1", port: int = 0) -> ServiceThread:
    """Start a fault server (:class:`HangServer`, :class:`GarbageServer`) in a background thread."""
    return ServiceThread(service, host, port).start()
