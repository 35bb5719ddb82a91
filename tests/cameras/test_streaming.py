"""The gateway end to end over a real socket: real RTSP cameras in, fMP4 over WebSocket out."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from dieuhanh.app import create_app
from dieuhanh.core.runtime import Runtime
from dieuhanh.gateway import hub as hub_module
from dieuhanh.gateway import routes as gateway_routes
from dieuhanh.gateway.fmp4 import Fragment, InitSegment, SegmentReader
from dieuhanh.simulator import SimulatedCamera, run_simulator
from tests.aio import run
from tests.browser import serving_app
from tests.conftest import LOC_THANH, LONG_THANH, PASSWORD

SIM_PASSWORD = "Gw#2026 pw"


@dataclass
class App:
    base: str
    client: httpx.Client
    runtime: Runtime
    state: Any  # the application's state: its gateway node

    def register(self, url: str, unit: str = LOC_THANH, name: str = "Camera") -> int:
        response = self.client.post(
            "/api/v1/cameras", json={"name": name, "unit_code": unit, "stream_url": url}
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def stream(self, camera_id: int, codecs: str = "avc1", **params: str) -> dict[str, Any]:
        response = self.client.get(
            f"/api/v1/cameras/{camera_id}/stream", params={"codecs": codecs, **params}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    @property
    def gateway(self) -> Any:
        return self.state.gateway_node.gateway


@pytest.fixture(scope="module")
def cameras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    mounts = [
        SimulatedCamera("/h264"),
        SimulatedCamera("/h265", codec="h265"),
        SimulatedCamera("/secure", username="admin", password=SIM_PASSWORD),
        SimulatedCamera("/long-gop", gop=900),
    ]
    with run_simulator(mounts, cache_dir=tmp_path_factory.mktemp("clips")) as sim:
        yield sim


@pytest.fixture
def app(backend_pool: Any, make_runtime: Any) -> Iterator[App]:
    url = backend_pool.get("sqlite").copy_template()
    runtime = make_runtime(url, gateway={"secret": "test-gateway-secret", "idle_seconds": 0.5})
    application = create_app(runtime=runtime)
    with serving_app(application) as base, httpx.Client(base_url=base, timeout=30) as client:
        token = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield App(base, client, runtime, application.state)


def stalled_viewer(url: str) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads a byte."""
    parsed = urlsplit(url)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Before connecting, so that the window it advertises stays small.
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect((parsed.hostname, parsed.port))
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        f"GET {parsed.path}?{parsed.query} HTTP/1.1\r\nHost: {parsed.netloc}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    return raw


def receive(url: str, count: int, timeout: float = 10) -> list[InitSegment | Fragment]:
    reader = SegmentReader()
    items: list[InitSegment | Fragment] = []
    with connect(url, open_timeout=timeout) as socket:
        while len(items) < count:
            items.extend(reader.feed(socket.recv(timeout=timeout)))
    return items


def test_h264_and_h265_pass_through(app: App, cameras: Any) -> None:
    for path, codec, sample_entry in (("/h264", "h264", "avc1"), ("/h265", "h265", "hvc1")):
        camera_id = app.register(cameras.url(path))
        stream = app.stream(camera_id, codecs="avc1,hvc1")
        assert (stream["codec"], stream["transcoded"], stream["source_codec"]) == (
            codec,
            False,
            codec,
        )
        items = receive(stream["mse_url"], 20)
        init, first = items[0], items[1]
        assert isinstance(init, InitSegment) and init.data[4:8] == b"ftyp"
        assert init.codec == codec and init.codec_string.startswith(sample_entry)
        assert (init.width, init.height) == (640, 360)
        assert isinstance(first, Fragment) and first.keyframe and first.data[4:8] == b"moof"
        times = [item.decode_time for item in items[1:] if isinstance(item, Fragment)]
        assert times == sorted(times) and times[0] == 0


def test_urls_carry_no_camera_address_or_password(app: App, cameras: Any) -> None:
    camera_id = app.register(cameras.url("/secure"))
    stream = app.stream(camera_id)
    for url in (stream["mse_url"], stream["hls_url"], stream["snapshot_url"]):
        assert SIM_PASSWORD not in url and "Gw%232026" not in url
        assert f":{cameras.port}" not in url
    assert isinstance(receive(stream["mse_url"], 2)[1], Fragment)


def test_one_pull_shared_and_a_warm_viewer_starts_at_once(app: App, cameras: Any) -> None:
    camera_id = app.register(cameras.url("/h264"))
    url = app.stream(camera_id)["mse_url"]
    reader = SegmentReader()
    with connect(url) as first:
        for _ in range(30):  # the pull is running and its GOP cached
            list(reader.feed(first.recv(timeout=10)))
        started = time.monotonic()
        warm = receive(app.stream(camera_id)["mse_url"], 2)
        warm_seconds = time.monotonic() - started
        assert app.gateway.pulls_started == 1 and len(app.gateway.streams) == 1
    assert isinstance(warm[1], Fragment) and warm[1].keyframe
    assert warm_seconds < 1.0  # a new viewer does not wait for the next keyframe


def test_idle_stop(app: App, cameras: Any) -> None:
    camera_id = app.register(cameras.url("/h264"))
    receive(app.stream(camera_id)["mse_url"], 3)
    deadline = time.monotonic() + 5
    while app.gateway.streams and time.monotonic() < deadline:
        time.sleep(0.1)
    assert app.gateway.streams == {}  # stopped 0.5 s after the last viewer left


def test_tokens_are_checked(app: App, cameras: Any) -> None:
    first, second = app.register(cameras.url("/h264")), app.register(cameras.url("/h265"))
    good = app.stream(first)["mse_url"]
    signature = good.split("token=")[1].split(".")[1]
    forged = good.replace(signature, signature[::-1])
    other = app.stream(second)["mse_url"].replace(f"/cameras/{second}/", f"/cameras/{first}/")
    for url, code, reason in ((forged, 4401, "invalid_stream_token"),
                              (good.split("?")[0], 4401, "invalid_stream_token"),
                              (other, 4403, "wrong_camera")):  # fmt: skip
        with connect(url) as socket, pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (code, reason)


def test_expired_token(app: App, cameras: Any) -> None:
    from datetime import UTC, datetime

    from dieuhanh.cameras import stream_tokens as tokens

    camera_id = app.register(cameras.url("/h264"))
    claims = tokens.StreamClaims(
        camera_id, 1, "main", "copy", 1, int(datetime.now(UTC).timestamp()) - 1
    )
    token = tokens.sign(claims, b"test-gateway-secret")
    url = f"{app.base.replace('http', 'ws')}/gw/v1/cameras/{camera_id}/mse?token={token}"
    with connect(url) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=5)
    assert closed.value.rcvd.reason == "stream_token_expired"


def test_a_dead_camera_is_reported_in_the_close_reason(app: App, refusing: str) -> None:
    camera_id = app.register(refusing)
    stream = app.stream(camera_id)
    assert stream["status"]["state"] == "dead" and stream["status"]["reason"] == "refused"
    messages = []
    with connect(stream["mse_url"]) as socket, pytest.raises(ConnectionClosed) as closed:
        while True:
            messages.append(socket.recv(timeout=30))
    # First said while the socket stays open, then as the reason it closes.
    status = json.loads(messages[0])
    assert status["type"] == "status" and status["state"] == "offline"
    assert status["reason"] == "refused" and "connection refused" in status["detail"]
    assert closed.value.rcvd.code == 4502 and closed.value.rcvd.reason.startswith("refused")


def test_a_viewer_that_never_reads_does_not_hold_back_the_others(
    app: App, cameras: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = 16 * 1024
    monkeypatch.setattr(hub_module.Hub, "max_viewer_bytes", limit)
    camera_id = app.register(cameras.url("/h265"))
    stalled = stalled_viewer(app.stream(camera_id, codecs="hvc1")["mse_url"])
    try:
        url = app.stream(camera_id, codecs="hvc1")["mse_url"]
        started = time.monotonic()
        items = receive(url, 150, timeout=15)  # ten seconds of video, in real time
        assert time.monotonic() - started < 12  # the stalled viewer held nobody back
        assert sum(isinstance(i, Fragment) for i in items) >= 140
        # Its queue stays bounded (the skipping itself is shown in tests/gateway/test_hub.py:
        # here the kernel's socket buffers absorb a few hundred kilobytes first).
        viewers = next(iter(app.gateway.streams.values())).hub.viewers
        assert viewers and all(viewer.queued_bytes <= limit for viewer in viewers)
    finally:
        stalled.close()


def test_reconnect_after_the_camera_restarts(
    app: App, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cache = tmp_path_factory.mktemp("restart")
    first = run_simulator([SimulatedCamera("/cam")], cache_dir=cache)
    port = first.port
    camera_id = app.register(first.url("/cam"))
    reader = SegmentReader()
    inits = 0
    times: list[int] = []
    states: list[str] = []
    with connect(app.stream(camera_id)["mse_url"]) as socket:

        def take(n: int) -> None:
            nonlocal inits
            got = 0
            while got < n:
                message = socket.recv(timeout=30)
                if isinstance(message, str):
                    states.append(json.loads(message)["state"])
                    continue
                for item in reader.feed(message):
                    if isinstance(item, InitSegment):
                        inits += 1
                    else:
                        times.append(item.decode_time)
                        got += 1

        take(10)
        first.stop()
        second = run_simulator([SimulatedCamera("/cam", codec="h265")], port=port, cache_dir=cache)
        try:
            take(10)  # the viewer resumes by itself, on the camera's new codec
        finally:
            second.stop()
    assert inits == 2
    assert times == sorted(times)  # one timeline across the restart
    assert states == ["offline", "live"]  # the player said why the picture stopped, then resumed


def test_no_keyframe_for_too_long(app: App, cameras: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway_routes, "NO_KEYFRAME_SECONDS", 2)
    monkeypatch.setattr(hub_module, "MAX_CACHE_FRAGMENTS", 5)
    camera_id = app.register(cameras.url("/long-gop"))
    with connect(app.stream(camera_id)["mse_url"]) as watching:
        for _ in range(10):
            watching.recv(timeout=10)
        late = app.stream(camera_id)["mse_url"]
        with connect(late) as socket, pytest.raises(ConnectionClosed) as closed:
            while True:
                socket.recv(timeout=10)
        assert closed.value.rcvd.code == 4504 and closed.value.rcvd.reason.startswith("no_keyframe")
        watching.recv(timeout=5)  # the first viewer is unaffected


def test_200_viewers_at_once(app: App, cameras: Any) -> None:
    camera_id = app.register(cameras.url("/h264"))
    urls = [app.stream(camera_id)["mse_url"] for _ in range(200)]

    async def view(url: str) -> bool:
        from websockets.asyncio.client import connect as aconnect

        async with aconnect(url, open_timeout=30) as socket:
            first = await asyncio.wait_for(socket.recv(), 30)
            second = await asyncio.wait_for(socket.recv(), 30)
            return first[4:8] == b"ftyp" and second[4:8] == b"moof"

    async def everyone() -> list[bool]:
        return list(await asyncio.gather(*(view(url) for url in urls)))

    results = run(everyone(), timeout=120)
    assert len(results) == 200 and all(results)
    assert app.client.get("/api/v1/health").status_code == 200
    assert app.gateway.pulls_started == 1


def test_hls_fallback(app: App, cameras: Any) -> None:
    camera_id = app.register(cameras.url("/h264"))
    master = app.client.get(app.stream(camera_id)["hls_url"])
    assert (
        master.status_code == 200
        and "#EXT-X-STREAM-INF" in master.text
        and 'CODECS="avc1' in master.text
    )
    variant_url = httpx.URL(str(master.url)).join(master.text.strip().splitlines()[-1])
    playlist = app.client.get(variant_url)
    lines = playlist.text.splitlines()
    assert "#EXTM3U" in lines[0] and any(line.startswith("#EXT-X-MAP") for line in lines)
    init_name = next(line for line in lines if line.startswith("#EXT-X-MAP")).split('"')[1]
    segment_name = next(line for line in lines if line.endswith(".m4s"))
    init = app.client.get(variant_url.join(init_name)).content
    segment = app.client.get(variant_url.join(segment_name)).content
    items = list(SegmentReader().feed(init + segment))
    assert (
        isinstance(items[0], InitSegment) and isinstance(items[1], Fragment) and items[1].keyframe
    )
    assert app.client.get(variant_url.join("999999.m4s")).status_code == 404


def test_snapshot_and_views(app: App, cameras: Any) -> None:
    camera_id = app.register(cameras.url("/h264"), unit=LONG_THANH)
    receive(app.stream(camera_id)["mse_url"], 3)
    snapshot = app.client.get(f"/api/v1/cameras/{camera_id}/snapshot.jpg")
    assert snapshot.status_code == 200 and snapshot.content[:2] == b"\xff\xd8"
    views = app.client.get(f"/api/v1/cameras/{camera_id}/views").json()
    assert views[0]["username"] == "admin" and views[0]["started_at"] and views[0]["bytes_sent"] > 0
