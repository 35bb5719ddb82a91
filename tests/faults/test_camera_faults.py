"""Cameras misbehaving behind the stream gateway, each while a viewer watches a healthy camera.

After each fault: the server still answers, the viewer of the OTHER camera never stalled (the
longest gap between its fragments stays under ``MAX_GAP`` — a correctness bound on stalling,
generous enough for a loaded 2-core machine, not a speed figure), and what a person sees (the
player's status message or close reason) names the cause.

The gateway keeps no state of its own in the database for this (only the camera registry), so
these run on SQLite; both databases are covered by the storage faults.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from dieuhanh.app import create_app
from dieuhanh.gateway import hub as hub_module
from dieuhanh.gateway import routes as gateway_routes
from dieuhanh.gateway.fmp4 import Fragment, InitSegment, SegmentReader
from dieuhanh.simulator import SimulatedCamera, SimulatorThread, run_simulator
from dieuhanh.simulator.runner import ServiceThread
from tests.browser import serving_app
from tests.conftest import CREDENTIAL_KEY, LOC_THANH, PASSWORD, BackendPool

pytestmark = pytest.mark.slow
MAX_GAP = 2.0  # seconds without a fragment from the healthy camera (it sends 15 a second)
TIMEOUT = 2  # the cameras' connect/answer timeout in these tests


@dataclass
class Gateway:
    base: str
    client: httpx.Client

    def register(self, url: str, name: str) -> int:
        camera = {"name": name, "unit_code": LOC_THANH, "stream_url": url}
        response = self.client.post("/api/v1/cameras", json=camera)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def mse_url(self, camera_id: int) -> str:
        response = self.client.get(f"/api/v1/cameras/{camera_id}/stream", params={"codecs": "avc1"})
        assert response.status_code == 200, response.text
        return str(response.json()["mse_url"])

    def is_up(self) -> bool:
        return self.client.get("/api/v1/health").status_code == 200


@pytest.fixture
def gateway(backend_pool: BackendPool, make_runtime: Any) -> Iterator[Gateway]:
    url = backend_pool.get("sqlite").copy_template()
    runtime = make_runtime(
        url,
        gateway={"secret": "test-gateway-secret", "idle_seconds": 0.5},
        cameras={"credential_keys": [CREDENTIAL_KEY], "monitor": {"timeout_seconds": TIMEOUT}},
    )
    with (
        serving_app(create_app(runtime=runtime)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        token = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield Gateway(base, client)


@dataclass
class Watcher:
    """A viewer of the healthy camera in a thread of its own, noting when each fragment came."""

    url: str
    arrivals: list[float] = field(default_factory=list)
    error: BaseException | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Watcher:
        self._thread = threading.Thread(target=self._watch, name="healthy-viewer", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while len(self.arrivals) < 15:  # watching for a second before the fault begins
            assert self.error is None, self.error
            assert time.monotonic() < deadline, "the healthy camera sent nothing"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(15)

    def _watch(self) -> None:
        reader = SegmentReader()
        try:
            with connect(self.url, open_timeout=10) as socket:
                while not self._stop.is_set():
                    message = socket.recv(timeout=10)
                    if isinstance(message, bytes):
                        fragments = [i for i in reader.feed(message) if isinstance(i, Fragment)]
                        self.arrivals += [time.monotonic()] * len(fragments)
        except BaseException as exc:  # reported by longest_gap() in the test's thread
            self.error = exc

    def longest_gap(self) -> float:
        assert self.error is None, f"the healthy viewer failed: {self.error!r}"
        times = [*self.arrivals, time.monotonic()]
        return max(later - earlier for earlier, later in itertools.pairwise(times))


@pytest.fixture
def watching(gateway: Gateway, healthy: SimulatorThread) -> Iterator[Watcher]:
    camera_id = gateway.register(healthy.url("/healthy"), "healthy")
    with Watcher(gateway.mse_url(camera_id)) as watcher:
        yield watcher
    assert gateway.is_up()


@dataclass
class Seen:
    """What the faulty camera's viewer saw: status messages, media, and how the socket ended."""

    statuses: list[dict[str, str]] = field(default_factory=list)
    inits: list[InitSegment] = field(default_factory=list)
    fragments: int = 0
    close_code: int | None = None
    close_reason: str = ""


def watch(socket: ClientConnection, seen: Seen, until: Any, timeout: float = 30) -> None:
    """Receives until ``until(seen)`` or the socket closes, for at most ``timeout`` seconds."""
    reader = SegmentReader()
    deadline = time.monotonic() + timeout
    try:
        while not until(seen):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"not seen within {timeout:g} s: {seen}"
            message = socket.recv(timeout=remaining)
            if isinstance(message, str):
                seen.statuses.append(json.loads(message))
                continue
            for item in reader.feed(message):
                if isinstance(item, InitSegment):
                    seen.inits.append(item)
                else:
                    seen.fragments += 1
    except ConnectionClosed as closed:
        assert closed.rcvd is not None
        seen.close_code, seen.close_reason = closed.rcvd.code, closed.rcvd.reason


def offline_reasons(seen: Seen) -> list[str]:
    return [s["reason"] for s in seen.statuses if s.get("state") == "offline"]


def unreachable(gateway: Gateway, url: str, watcher: Watcher) -> Seen:
    """A viewer of a camera that never streams: told why, then the socket closes with it."""
    seen = Seen()
    with connect(gateway.mse_url(gateway.register(url, "faulty")), open_timeout=10) as socket:
        watch(socket, seen, lambda s: False, timeout=TIMEOUT * 2 + 2 + 20)
    assert watcher.longest_gap() < MAX_GAP
    return seen


def test_a_camera_answering_garbage(
    gateway: Gateway, watching: Watcher, answering_garbage: ServiceThread
) -> None:
    seen = unreachable(gateway, answering_garbage.url("/stream"), watching)
    assert offline_reasons(seen)[:1] == ["protocol_error"]
    assert seen.close_code == 4502 and seen.close_reason.startswith("protocol_error")


def test_a_camera_trickling_bytes(
    gateway: Gateway, watching: Watcher, trickling: ServiceThread
) -> None:
    seen = unreachable(gateway, trickling.url("/stream"), watching)
    assert offline_reasons(seen)[:1] == ["timeout"]
    assert seen.close_code == 4502 and seen.close_reason.startswith("timeout")


@pytest.fixture
def camera_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "fault-clips"


def test_a_camera_that_drops_then_comes_back_with_another_codec_and_size(
    gateway: Gateway, watching: Watcher, camera_cache: Path
) -> None:
    first = run_simulator([SimulatedCamera("/cam", width=640, height=360)], cache_dir=camera_cache)
    port = first.port
    seen = Seen()
    try:
        with connect(gateway.mse_url(gateway.register(first.url("/cam"), "faulty"))) as socket:
            watch(socket, seen, lambda s: s.fragments >= 10)
            first.stop()  # the camera drops mid-stream (power cut: its port closes)
            watch(socket, seen, lambda s: bool(offline_reasons(s)))
            assert watching.longest_gap() < MAX_GAP
            again = [SimulatedCamera("/cam", codec="h265", width=320, height=180)]
            with run_simulator(again, port=port, cache_dir=camera_cache):
                watch(socket, seen, lambda s: s.fragments >= 20)
    finally:
        first.stop()
    assert offline_reasons(seen)[0] in {"refused", "stalled"}  # named, not a bare "error"
    assert seen.statuses[-1]["state"] == "live"
    assert [(i.codec, i.width, i.height) for i in seen.inits] == [
        ("h264", 640, 360),
        ("h265", 320, 180),
    ]
    assert watching.longest_gap() < MAX_GAP


def test_a_camera_that_sends_no_keyframe(
    gateway: Gateway, watching: Watcher, camera_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A late viewer of a camera whose keyframes are a minute apart (the cache holds less than
    that): told so after NO_KEYFRAME_SECONDS, while the first viewer goes on."""
    monkeypatch.setattr(gateway_routes, "NO_KEYFRAME_SECONDS", 2)
    monkeypatch.setattr(hub_module, "MAX_CACHE_FRAGMENTS", 5)
    with run_simulator(
        [SimulatedCamera("/rare-keyframes", gop=900)], cache_dir=camera_cache
    ) as sim:
        camera_id = gateway.register(sim.url("/rare-keyframes"), "faulty")
        with connect(gateway.mse_url(camera_id)) as first:
            watch(first, Seen(), lambda s: s.fragments >= 10)
            late = Seen()
            with connect(gateway.mse_url(camera_id)) as socket:
                watch(socket, late, lambda s: False)
            assert late.close_code == 4504 and late.close_reason.startswith("no_keyframe")
            watch(first, Seen(), lambda s: s.fragments >= 5)  # the first viewer goes on
    assert watching.longest_gap() < MAX_GAP


def test_a_camera_that_stalls_mid_stream(
    gateway: Gateway, watching: Watcher, camera_cache: Path
) -> None:
    """Connected, then nothing: the connection stays open but the packets stop."""
    stalling = [SimulatedCamera("/stalls", stall_after=1.5)]
    with run_simulator(stalling, cache_dir=camera_cache) as sim:
        seen = Seen()
        with connect(gateway.mse_url(gateway.register(sim.url("/stalls"), "faulty"))) as socket:
            watch(socket, seen, lambda s: bool(offline_reasons(s)))
    assert seen.fragments > 0 and offline_reasons(seen)[0] == "stalled"
    assert watching.longest_gap() < MAX_GAP
