"""Real cameras for the camera tests: GStreamer's RTSP server and our own simulator, each
started once per test session, and the dead "cameras" (refusing, hanging, garbage, no DNS)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dieuhanh.simulator import (
    GarbageServer,
    HangServer,
    SimulatedCamera,
    SimulatorThread,
    refused_port,
    run_service,
    run_simulator,
    unresolvable_host,
)
from tests.cameras.servers import GstServer, gst_rtsp_server, gstreamer_available

SIM_USER, SIM_PASSWORD = "admin", "Cam@123 !"
STALL_AFTER = 1.5

SIMULATED = [
    SimulatedCamera("/h264", width=640, height=360, fps=15),
    SimulatedCamera("/h265", codec="h265", width=640, height=360, fps=15),
    SimulatedCamera("/h264-audio", audio="pcmu"),
    SimulatedCamera("/black", kind="black"),
    SimulatedCamera("/frozen", kind="frozen"),
    SimulatedCamera("/secure", username=SIM_USER, password=SIM_PASSWORD),
    SimulatedCamera("/audio-only", audio="pcmu", audio_only=True),
    SimulatedCamera("/unsupported", proprietary_video=True),
    SimulatedCamera("/stall", stall_after=STALL_AFTER),
]


@pytest.fixture(scope="session")
def gst_camera() -> Iterator[GstServer]:
    available, why = gstreamer_available()
    if not available:
        pytest.fail(f"GStreamer's RTSP server is needed: {why}")
    with gst_rtsp_server(width=320, height=180, fps=10) as server:
        yield server


@pytest.fixture(scope="session")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorThread]:
    cache = Path(tmp_path_factory.mktemp("clips"))
    with run_simulator(SIMULATED, cache_dir=cache) as sim:
        yield sim


@dataclass(frozen=True)
class Camera:
    """One server's URLs for each kind of stream, so a test can run against either server."""

    kind: str
    h264: str
    h265: str
    h264_audio: str
    black: str
    frozen: str
    secure: str
    secure_no_password: str
    missing: str
    audio_only: str
    unsupported: str
    size: tuple[int, int]
    fps: float


@pytest.fixture(params=["gstreamer", "simulator"])
def real_camera(request: pytest.FixtureRequest) -> Camera:
    """Both RTSP servers the issue asks for: GStreamer's (Debian) and our own."""
    if request.param == "gstreamer":
        gst: GstServer = request.getfixturevalue("gst_camera")
        return Camera(
            "gstreamer",
            gst.url("/h264"),
            gst.url("/h265"),
            gst.url("/h264-audio"),
            gst.url("/black"),
            gst.url("/frozen"),
            gst.secure_url(),
            gst.url("/secure"),
            gst.url("/no-such-channel"),
            gst.url("/audio-only"),
            gst.url("/vp8"),
            (gst.width, gst.height),
            float(gst.fps),
        )
    sim: SimulatorThread = request.getfixturevalue("simulator")
    return Camera(
        "simulator",
        sim.url("/h264"),
        sim.url("/h265"),
        sim.url("/h264-audio"),
        sim.url("/black"),
        sim.url("/frozen"),
        sim.url("/secure"),
        sim.url("/secure", with_credentials=False),
        sim.url("/no-such-channel"),
        sim.url("/audio-only"),
        sim.url("/unsupported"),
        (640, 360),
        15.0,
    )


@pytest.fixture(scope="session")
def hanging() -> Iterator[str]:
    with run_service(HangServer()) as service:
        yield service.url("/stream")


@pytest.fixture(scope="session")
def garbage() -> Iterator[str]:
    with run_service(GarbageServer()) as service:
        yield service.url("/stream")


@pytest.fixture(scope="session")
def refusing() -> str:
    return f"rtsp://127.0.0.1:{refused_port()}/stream"


@pytest.fixture(scope="session")
def unresolvable() -> str:
    return f"rtsp://{unresolvable_host()}:554/stream"
