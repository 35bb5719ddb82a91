"""Every health verdict, from a real RTSP server (GStreamer's and our simulator) or socket."""

from __future__ import annotations

import logging
import time

import pytest

from dieuhanh.cameras.models import Reason
from dieuhanh.cameras.picture import difference
from dieuhanh.cameras.probe import ProbeOptions, ProbeResult
from dieuhanh.cameras.probe import probe as product_probe
from dieuhanh.core.network import NetworkPolicy
from dieuhanh.simulator import run_service
from tests.cameras.conftest import SIM_PASSWORD, STALL_AFTER, Camera
from tests.conftest import TEST_CAMERA_NETWORKS
from tests.hostile import HttpLoginPage

FAST = ProbeOptions(timeout=2.0, read_seconds=0.6)
PICTURE = ProbeOptions(timeout=2.0, read_seconds=0.6, picture=True, keyframe_wait=2.5)
# The test cameras listen on loopback: allowed here, as the test settings allow it.
LOOPBACK_ALLOWED = NetworkPolicy.of(TEST_CAMERA_NETWORKS)


def probe(url: str, options: ProbeOptions, **more: object) -> ProbeResult:
    return product_probe(url, options, policy=LOOPBACK_ALLOWED, **more)  # type: ignore[arg-type]


def test_h264_codec_size_rate_bitrate(real_camera: Camera) -> None:
    result = probe(real_camera.h264, PICTURE)
    assert result.live, result.detail
    assert (result.codec, (result.width, result.height)) == ("h264", real_camera.size)
    assert result.fps == pytest.approx(real_camera.fps, rel=0.15)
    assert result.bitrate_kbps and result.bitrate_kbps > 5
    assert result.keyframe_interval_s == pytest.approx(1.0, abs=0.15)  # both serve 1 s GOPs
    assert result.picture is not None and result.picture.luma_mean > 30
    assert result.reason is None and result.detail is None


def test_h265_is_recognised(real_camera: Camera) -> None:
    result = probe(real_camera.h265, FAST)
    assert result.live, result.detail
    assert (result.codec, (result.width, result.height)) == ("h265", real_camera.size)
    assert result.profile == "Main"
    assert result.fps == pytest.approx(real_camera.fps, rel=0.15)


def test_audio_codec_is_reported(real_camera: Camera) -> None:
    result = probe(real_camera.h264_audio, FAST)
    assert result.live and result.audio_codec == "g711u"


def test_black_picture_is_measured(real_camera: Camera) -> None:
    result = probe(real_camera.black, PICTURE)
    assert result.live and result.picture is not None
    assert result.picture.luma_mean < 20 and result.picture.luma_spread < 30


def test_frozen_picture_repeats_exactly(real_camera: Camera) -> None:
    first = probe(real_camera.frozen, PICTURE).picture
    second = probe(real_camera.frozen, PICTURE).picture
    moving = [probe(real_camera.h264, PICTURE).picture for _ in range(2)]
    assert first is not None and second is not None and first.luma_mean > 30
    assert first.signature == second.signature or _difference(first, second) < 0.5
    assert moving[0] is not None and moving[1] is not None
    assert _difference(moving[0], moving[1]) > 0.5


def _difference(a, b) -> float:

    return difference(a.signature, b.signature)


def test_wrong_or_missing_credentials(real_camera: Camera) -> None:
    assert probe(real_camera.secure, FAST).live
    result = probe(real_camera.secure_no_password, FAST)
    assert (result.live, result.reason) == (False, Reason.UNAUTHORIZED)
    wrong = real_camera.secure.replace("@127", "x@127")
    assert probe(wrong, FAST).reason is Reason.UNAUTHORIZED


def test_wrong_path(real_camera: Camera) -> None:
    assert probe(real_camera.missing, FAST).reason is Reason.NOT_FOUND


def test_no_video_track(real_camera: Camera) -> None:
    result = probe(real_camera.audio_only, FAST)
    assert (result.reason, result.audio_codec) == (Reason.NO_VIDEO, "pcm_mulaw")
    assert "audio" in (result.detail or "")


def test_unsupported_codec(real_camera: Camera) -> None:
    result = probe(real_camera.unsupported, FAST)
    assert result.reason is Reason.UNSUPPORTED_CODEC
    if real_camera.kind == "gstreamer":
        assert result.codec == "vp8"  # a real codec, but not one the gateway can show


def test_stream_that_stalls_after_connecting(simulator) -> None:
    # The simulator sends 1.5 s of video, then nothing: reading for longer must notice.
    result = probe(simulator.url("/stall"), ProbeOptions(timeout=1.0, read_seconds=STALL_AFTER + 2))
    assert result.reason is Reason.STALLED
    assert result.codec == "h264"


def test_refused(refusing: str) -> None:
    result = probe(refusing, FAST)
    assert result.reason is Reason.REFUSED and result.seconds < 1


def test_timeout_from_a_server_that_never_answers(hanging: str) -> None:
    result = probe(hanging, ProbeOptions(timeout=1.0))
    assert result.reason is Reason.TIMEOUT
    assert 0.8 <= result.seconds < 3


def test_garbage_is_a_protocol_error(garbage: str) -> None:
    result = probe(garbage, FAST)
    assert result.reason is Reason.PROTOCOL_ERROR and result.seconds < 1


def test_a_web_server_on_the_camera_port_is_a_protocol_error_at_once() -> None:
    # A router's login page that keeps the connection open: FFmpeg alone took the 401 for RTSP
    # and waited out its whole timeout, reporting "timeout". The timeout here is far longer
    # than the test could wait for: the verdict has to come from the first answer.
    with run_service(HttpLoginPage()) as server:
        result = probe(server.url("/stream"), ProbeOptions(timeout=30.0))
    assert (result.live, result.reason) == (False, Reason.PROTOCOL_ERROR)
    assert (result.detail or "").startswith("answered HTTP, not RTSP")
    assert "401 Unauthorized" in (result.detail or "")


def test_dns_failure(unresolvable: str) -> None:
    result = probe(unresolvable, FAST)
    assert result.reason is Reason.DNS and "cannot resolve" in (result.detail or "")


def test_credentials_never_reach_a_message_or_a_log(
    simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = simulator.url("/secure").replace("%21", "X")  # the password ends with "!": altered
    password = wrong.split("//")[1].split("@")[0].split(":")[1]
    result = probe(wrong, FAST, secrets=[password])
    missing = probe(
        simulator.url("/secure").replace("/secure", "/nothing"), FAST, secrets=[SIM_PASSWORD]
    )
    assert result.reason is Reason.UNAUTHORIZED and missing.reason is Reason.NOT_FOUND
    for text in (result.detail or "", missing.detail or "", caplog.text):
        assert password not in text and SIM_PASSWORD not in text and "Cam%40123" not in text


def test_a_probe_decodes_nothing_without_a_picture_check(real_camera: Camera) -> None:
    """Cheap by design: without the picture check, packets are counted, not decoded."""
    started = time.process_time()
    result = probe(real_camera.h264, ProbeOptions(timeout=2.0, read_seconds=1.0))
    assert result.live and result.picture is None
    assert time.process_time() - started < 0.5
