"""Real servers for the fault suite: a simulator with healthy cameras, a camera that hangs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from dieuhanh.simulator import (
    GarbageServer,
    HangServer,
    SimulatedCamera,
    SimulatorThread,
    run_service,
    run_simulator,
)
from dieuhanh.simulator.runner import ServiceThread
from dieuhanh.simulator.tcp import TrackedServer

HEALTHY = [SimulatedCamera("/healthy", width=320, height=180, fps=15, gop=8)]


@pytest.fixture(scope="session")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorThread]:
    with run_simulator(HEALTHY, cache_dir=tmp_path_factory.mktemp("fault-clips")) as simulator:
        yield simulator


@pytest.fixture
def hanging() -> Iterator[ServiceThread]:
    """Accepts connections and never answers: a probe of it lasts its whole timeout."""
    with run_service(HangServer()) as service:
        yield service


class TrickleServer(TrackedServer):
    """Answers like an RTSP server, one byte every ``pause`` seconds, for ever: never silent
    long enough for a per-read timeout, never done with its reply."""

    def __init__(self, pause: float = 0.2) -> None:
        super().__init__()
        self.pause = pause

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not await reader.read(4096):
            return
        reply = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nX-Padding: " + b"x" * 1_000_000
        for byte in reply:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(self.pause)


@pytest.fixture
def trickling() -> Iterator[ServiceThread]:
    with run_service(TrickleServer()) as service:
        yield service


@pytest.fixture
def answering_garbage() -> Iterator[ServiceThread]:
    with run_service(GarbageServer("stream")) as service:
        yield service
