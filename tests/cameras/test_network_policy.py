"""The camera-network policy (issue #10): checked on the resolved address when connecting —
probe, monitor, both gateway pulls, the transcode worker — and refusing loopback, link-local and
the server's own addresses by default. Every "refused" is proven by a listener that counted no
connection."""

from __future__ import annotations

import asyncio
import ipaddress
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import pytest
from fastapi.testclient import TestClient

from dieuhanh.app import create_app
from dieuhanh.cameras.models import Camera
from dieuhanh.cameras.monitor import HealthMonitor
from dieuhanh.cameras.probe import ProbeOptions, probe
from dieuhanh.core.config import PRIVATE_NETWORKS, ConfigError, load_settings
from dieuhanh.core.network import NetworkPolicy, NetworkRefused, checked_address, safety_options
from dieuhanh.gateway.hub import Hub
from dieuhanh.gateway.pull import PassthroughPull
from dieuhanh.gateway.rtsp_pull import RtspPull
from dieuhanh.gateway.transcode_worker import ExitCode
from dieuhanh.rtsp.client import RtspClient
from dieuhanh.simulator import ServiceThread, SimulatorThread, run_service
from tests.aio import run as run_in_thread
from tests.cameras.servers import RecordingRtspServer
from tests.conftest import LOC_THANH, TEST_CAMERA_NETWORKS, token_for

FAST = ProbeOptions(timeout=2.0, read_seconds=0.3)
DEFAULT = NetworkPolicy.of(PRIVATE_NETWORKS)
LOOPBACK_ALLOWED = NetworkPolicy.of(TEST_CAMERA_NETWORKS)
ip = ipaddress.ip_address


@pytest.fixture
def listener() -> Iterator[tuple[ServiceThread, RecordingRtspServer]]:
    server = RecordingRtspServer()
    with run_service(server) as service:
        yield service, server


# -- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "words"),
    [
        (
            "127.0.0.1",
            "127.0.0.1 is a loopback address; cameras.allowed_networks does not allow it",
        ),
        ("::1", "::1 is a loopback address"),
        ("::ffff:127.0.0.1", "127.0.0.1 is a loopback address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
        ("fe80::1", "fe80::1 is a link-local address"),
        ("224.0.0.1", "224.0.0.1 is a multicast address"),
        ("0.0.0.0", "0.0.0.0 is a unspecified address"),
        ("255.255.255.255", "255.255.255.255 is a reserved address"),
        ("10.9.8.7", "10.9.8.7 is an address of this server"),
        ("203.0.113.9", "203.0.113.9 is outside cameras.allowed_networks (10.0.0.0/8, "),
    ],
)
def test_what_the_default_refuses_and_why(address: str, words: str) -> None:
    policy = NetworkPolicy.of(PRIVATE_NETWORKS, own=[ip("10.9.8.7")])
    reason = policy.refusal(ip(address))
    assert reason is not None and reason.startswith(words), reason


def test_what_is_allowed() -> None:
    policy = NetworkPolicy.of(PRIVATE_NETWORKS, own=[ip("10.9.8.7")])
    for address in ("10.1.2.3", "172.20.0.5", "192.168.1.64", "100.64.3.4", "fd00::5"):
        assert policy.refusal(ip(address)) is None, address
    # The whole Internet allows public cameras, never loopback or the metadata service.
    internet = NetworkPolicy.of(["0.0.0.0/0", "::/0"], own=[])
    assert internet.refusal(ip("203.0.113.9")) is None
    assert internet.refusal(ip("127.0.0.1")) and internet.refusal(ip("169.254.169.254"))
    # Listing a special range, or an own address alone, allows it.
    listed = NetworkPolicy.of(
        [*PRIVATE_NETWORKS, "127.0.0.0/8", "10.9.8.7/32"], own=[ip("10.9.8.7")]
    )
    assert listed.refusal(ip("127.0.0.1")) is None and listed.refusal(ip("10.9.8.7")) is None


def test_a_name_is_checked_on_what_it_resolves_to() -> None:
    with pytest.raises(NetworkRefused, match=r"^localhost resolves to (127\.0\.0\.1|::1): "):
        checked_address("localhost", DEFAULT)
    assert str(checked_address("localhost", LOOPBACK_ALLOWED)) in ("127.0.0.1", "::1")


def test_the_setting_is_validated() -> None:
    assert load_settings().cameras.allowed_networks == list(PRIVATE_NETWORKS)
    with pytest.raises(ConfigError, match=r"cameras\.allowed_networks"):
        load_settings(cameras={"allowed_networks": []})
    with pytest.raises(ConfigError, match="not a network"):
        load_settings(cameras={"allowed_networks": ["10.0.0.0/8", "camera-lan"]})


# -- probe and monitor ------------------------------------------------------------------------


def test_a_probe_of_a_refused_address_makes_no_connection(listener) -> None:
    service, recorder = listener
    result = probe(service.url("/Streaming/Channels/101"), FAST, policy=DEFAULT)
    assert (result.live, result.reason) == (False, "network_refused")
    assert (
        result.detail
        == "127.0.0.1 is a loopback address; cameras.allowed_networks does not allow it"
    )
    metadata = probe("http://169.254.169.254/latest/meta-data/", FAST, policy=DEFAULT)
    assert metadata.reason == "network_refused" and "link-local" in (metadata.detail or "")
    by_name = probe(f"rtsp://localhost:{service.port}/x", FAST, policy=DEFAULT)
    assert by_name.reason == "network_refused" and by_name.detail.startswith("localhost resolves")
    assert recorder.accepted == 0
    # The same server, allowed, is reached.
    assert probe(service.url("/x"), FAST, policy=LOOPBACK_ALLOWED).reason == "unauthorized"
    assert recorder.accepted == 2  # allowed: the greeting (OPTIONS), then FFmpeg


def test_saving_refuses_an_address_and_the_monitor_refuses_it_later(
    database_url: str, make_runtime, simulator: SimulatorThread, listener
) -> None:
    service, recorder = listener
    permissive = make_runtime(database_url)
    strict = make_runtime(database_url, cameras={"allowed_networks": list(PRIVATE_NETWORKS)})
    with TestClient(create_app(runtime=strict)) as client:
        refused = client.post(
            "/api/v1/cameras",
            headers=token_for(client, "admin"),
            json={"name": "DB", "unit_code": LOC_THANH, "stream_url": "rtsp://127.0.0.1:5432/"},
        )
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["code"] == "url_not_allowed"
        assert error["message"] == (
            "stream_url: 127.0.0.1 is a loopback address; cameras.allowed_networks does not "
            "allow it."
        )
    # Saved while allowed (as a DNS name can later point elsewhere): the monitor checks again.
    with TestClient(create_app(runtime=permissive)) as client:
        created = client.post(
            "/api/v1/cameras",
            headers=token_for(client, "admin"),
            json={"name": "Cổng", "unit_code": LOC_THANH, "stream_url": service.url("/ch1")},
        )
        assert created.status_code == 201, created.text
    report = HealthMonitor(strict).run_round()
    assert report.probed == 1 and report.reasons == {"network_refused": 1}
    with strict.sessions() as session:
        status = session.get(Camera, created.json()["id"]).status
        assert (status.state, status.reason) == ("dead", "network_refused")
        assert "loopback" in status.detail and status.consecutive_failures == 1
    assert recorder.accepted == 0


# -- the gateway ------------------------------------------------------------------------------


def pull_error(make_pull) -> str:
    """Start a pull on its own loop until the hub says why it cannot pull; return that."""

    async def scenario() -> str:
        hub = Hub("camera")
        pull = make_pull(hub, asyncio.get_running_loop())
        pull.start()
        try:
            for _ in range(200):
                if hub.error:
                    return hub.error
                await asyncio.sleep(0.05)
            raise AssertionError("the pull reported nothing")
        finally:
            pull.stop()
            if getattr(pull, "stopping", None) is not None:
                await asyncio.gather(pull.stopping, return_exceptions=True)

    return run_in_thread(scenario())


def test_both_gateway_pulls_refuse_without_connecting(listener) -> None:
    service, recorder = listener
    url = service.url("/ch1").replace("rtsp://", "rtsp://admin:pw-123@")

    def urls() -> tuple[str, list[str]]:
        return url, ["pw-123"]

    native = pull_error(lambda hub, loop: RtspPull(hub, urls, loop, 2.0, policy=DEFAULT))
    pyav = pull_error(lambda hub, loop: PassthroughPull(hub, urls, loop, 2.0, policy=DEFAULT))
    for error in (native, pyav):
        assert error.startswith("network_refused: 127.0.0.1 is a loopback address"), error
    assert recorder.accepted == 0


def test_the_native_client_connects_to_the_checked_address(simulator: SimulatorThread) -> None:
    """No second DNS lookup between the check and the connection: the URL's name does not even
    resolve, yet the client reaches the address it was handed."""
    url = f"rtsp://camera-khong-co.invalid:{simulator.port}/h264"

    async def scenario() -> str | None:
        client = RtspClient(url, 2.0, lambda packet: None, address="127.0.0.1")
        try:
            return (await client.open()).codec
        finally:
            client.close()

    assert run_in_thread(scenario()) == "h264"


def test_the_transcode_worker_refuses_without_connecting(listener) -> None:
    service, recorder = listener
    worker = subprocess.Popen(
        [sys.executable, "-m", "dieuhanh.gateway.transcode_worker"],
        stdin=subprocess.PIPE,  # held open: its end would mean "stop"
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert worker.stdin is not None and worker.stderr is not None
        worker.stdin.write(service.url("/ch1").encode() + b"\n")
        worker.stdin.flush()
        assert worker.wait(60) == ExitCode.NETWORK_REFUSED
        assert b"127.0.0.1 is a loopback address" in worker.stderr.read()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
        for pipe in (worker.stdin, worker.stderr):
            if pipe is not None:
                pipe.close()
    assert recorder.accepted == 0


# -- what FFmpeg may open ---------------------------------------------------------------------


def tiny_video(path: Path) -> Path:
    with av.open(str(path), "w") as output:
        stream = output.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for _ in range(3):
            for packet in stream.encode(av.VideoFrame(64, 64, "yuv420p")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return path


def test_ffmpeg_opens_only_network_protocols_for_a_camera(tmp_path: Path) -> None:
    video = tiny_video(tmp_path / "local.mkv")
    av.open(f"file:{video}").close()  # without the whitelist, FFmpeg reads the server's files
    for url in (f"file:{video}", f"concat:{video}|{video}", str(video)):
        for scheme in ("rtsp", "rtsps", "http", "https"):
            with pytest.raises(av.error.FFmpegError):
                av.open(url, options=safety_options(f"{scheme}://10.0.0.1/x"), timeout=2)


class _Redirect(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_an_http_redirect_is_not_followed(listener) -> None:
    """A redirect would reach an address the policy never saw (here: a listener that counts)."""
    service, recorder = listener
    _Redirect.target = f"http://127.0.0.1:{service.port}/metadata"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/video.mjpg"
        result = probe(url, FAST, policy=LOOPBACK_ALLOWED)
        assert not result.live
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline and not recorder.accepted:
            time.sleep(0.05)
        assert recorder.accepted == 0
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
