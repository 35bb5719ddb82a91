"""GStreamer's RTSP server is a real camera: every mount checked with PyAV, as the product reads.

One server serves the whole module; each test opens its own RTSP session. Open failures are
part of the contract the camera monitor relies on (401 → HTTPUnauthorizedError, 404 →
HTTPNotFoundError), so they are asserted here too.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import av
import av.error
import pytest
from av.codec.context import Flags2
from av.container import InputContainer
from av.video.frame import VideoFrame

from tests.cameras.servers import (
    GstServer,
    GstServerError,
    gst_rtsp_server,
    gstreamer_available,
    process_group_alive,
    read_clock,
)

# The product's probe options: analyzeduration 0.5 s. With FFmpeg's default (5 s) an open of a
# 10 fps stream takes ~2.8 s instead of ~0.65 s, because FFmpeg reads ~20 frames to guess the
# frame rate.
OPEN_OPTIONS = {"rtsp_transport": "tcp", "timeout": "5000000", "analyzeduration": "500000"}
NAL_IDR_SLICE = 5


@pytest.fixture(scope="module")
def camera() -> Iterator[GstServer]:
    available, why = gstreamer_available()
    if not available:
        pytest.fail(f"GStreamer's RTSP server cannot run here: {why}", pytrace=False)
    with gst_rtsp_server() as server:
        yield server


@contextmanager
def opened(url: str) -> Iterator[InputContainer]:
    container = av.open(url, options=OPEN_OPTIONS, timeout=(5, 5))
    try:
        yield container
    finally:
        container.close()


def video_frames(container: InputContainer, count: int) -> list[VideoFrame]:
    stream = container.streams.video[0]
    # FFmpeg's slice threading can hand out half-decoded pictures (NOTES-video.md).
    stream.codec_context.thread_count = 1
    frames: list[VideoFrame] = []
    for frame in container.decode(stream):
        frames.append(frame)
        if len(frames) == count:
            break
    return frames


def keyframes(container: InputContainer, count: int) -> list[VideoFrame]:
    stream = container.streams.video[0]
    stream.codec_context.thread_count = 1
    stream.codec_context.skip_frame = "NONKEY"
    found: list[VideoFrame] = []
    for frame in container.decode(stream):
        found.append(frame)
        if len(found) == count:
            break
    return found


def luma(frame: VideoFrame) -> bytes:
    """Full-range grey pixels, row padding removed."""
    gray = frame.reformat(format="gray")
    plane = gray.planes[0]
    data = bytes(plane)
    rows = range(gray.height)
    return b"".join(data[y * plane.line_size : y * plane.line_size + gray.width] for y in rows)


def mean(pixels: bytes) -> float:
    return sum(pixels) / len(pixels)


def test_h264_is_the_configured_moving_picture(camera: GstServer) -> None:
    with opened(camera.url("/h264")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
        assert stream.average_rate is not None
        assert abs(float(stream.average_rate) - camera.fps) < 0.5
        frames = video_frames(container, 8)
        assert stream.codec_context.has_b_frames == 0
    assert (frames[-1].width, frames[-1].height) == (camera.width, camera.height)
    stamps = [frame.pts for frame in frames if frame.pts is not None]
    steps = {later - earlier for earlier, later in itertools.pairwise(stamps)}
    assert steps == {90_000 // camera.fps}  # RTP's 90 kHz clock, one frame per 1/fps
    assert mean(luma(frames[-1])) > 40  # coloured background, not black
    assert luma(frames[-1]) != luma(frames[-2])  # the ball moves


def test_h265_is_main_profile(camera: GstServer) -> None:
    with opened(camera.url("/h265")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "hevc"
        assert stream.codec_context.profile == "Main"  # not Rext, which cameras do not send
        frames = video_frames(container, 3)
    assert [(frame.width, frame.height) for frame in frames] == [(320, 180)] * 3


def test_h264_audio_has_a_g711_track(camera: GstServer) -> None:
    with opened(camera.url("/h264-audio")) as container:
        assert [stream.type for stream in container.streams] == ["video", "audio"]
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "pcm_mulaw"
        assert (audio.codec_context.sample_rate, audio.codec_context.channels) == (8000, 1)
        assert video_frames(container, 2)


def test_black_is_black(camera: GstServer) -> None:
    with opened(camera.url("/black")) as container:
        [frame] = keyframes(container, 1)
    pixels = luma(frame)
    assert max(pixels) <= 20


def test_frozen_repeats_one_colourful_picture(camera: GstServer) -> None:
    with opened(camera.url("/frozen")) as container:
        pictures = [luma(frame) for frame in keyframes(container, 3)]
    assert pictures[0] == pictures[1] == pictures[2]
    assert mean(pictures[0]) > 60
    assert max(pictures[0]) - min(pictures[0]) > 100  # colour bars, not a flat picture


def test_secure_needs_the_credentials(camera: GstServer) -> None:
    for url in (camera.url("/secure"), camera.url("/secure", camera.username, "wrong")):
        with pytest.raises(av.error.HTTPUnauthorizedError) as refused:
            av.open(url, options=OPEN_OPTIONS, timeout=(5, 5))
        assert refused.value.errno == 825242872  # -AVERROR_HTTP_UNAUTHORIZED
        assert "401 Unauthorized" in str(refused.value)
    with opened(camera.secure_url()) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert video_frames(container, 1)


def test_unknown_path_is_not_found(camera: GstServer) -> None:
    with pytest.raises(av.error.HTTPNotFoundError) as missing:
        av.open(camera.url("/no-such-camera"), options=OPEN_OPTIONS, timeout=(5, 5))
    assert missing.value.errno == 875574520  # -AVERROR_HTTP_NOT_FOUND
    assert "404 Not Found" in str(missing.value)


def test_vp8_is_a_real_but_unsupported_codec(camera: GstServer) -> None:
    with opened(camera.url("/vp8")) as container:
        assert [stream.codec_context.name for stream in container.streams] == ["vp8"]
        assert video_frames(container, 1)


def test_audio_only_has_no_video(camera: GstServer) -> None:
    with opened(camera.url("/audio-only")) as container:
        assert not container.streams.video
        assert [stream.codec_context.name for stream in container.streams] == ["pcm_mulaw"]


def test_two_clients_share_the_camera(camera: GstServer) -> None:
    def watch(path: str) -> int:
        with opened(camera.url(path)) as container:
            return len(video_frames(container, 5))

    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(watch, ["/h264", "/h264"]))
    assert counts == [5, 5]


def test_clock_burns_in_the_wall_clock(camera: GstServer) -> None:
    with opened(camera.url("/clock")) as container:
        delays = [time.time() - read_clock(frame) for frame in video_frames(container, 15)]
    # Frames queued while FFmpeg probed the stream are older; the freshest ones show the delay.
    assert -0.05 < min(delays) < 0.5, delays


def test_multi_slice_stream_decodes_whole_pictures(camera: GstServer) -> None:
    with opened(camera.url("/h264-slices")) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        # FFmpeg's RTSP demuxer hands a multi-slice keyframe over in several packets; without
        # CHUNKS the decoder outputs a partial picture for each (seen with FFmpeg 8.1).
        stream.codec_context.flags2 |= Flags2.chunks
        slices: dict[int | None, int] = {}
        frames: list[VideoFrame] = []
        for packet in container.demux(stream):
            if packet.is_keyframe:
                slices[packet.pts] = slices.get(packet.pts, 0) + idr_slices(bytes(packet))
            frames += packet.decode()
            if len(frames) >= 12:
                break
    assert max(slices.values()) == 4
    stamps = [frame.pts for frame in frames]
    assert len(stamps) == len(set(stamps))  # one picture per timestamp


def idr_slices(annex_b: bytes) -> int:
    units = annex_b.split(b"\x00\x00\x01")[1:]
    return sum(1 for unit in units if unit and unit[0] & 0x1F == NAL_IDR_SLICE)


def gst_server_processes() -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:  # exited while we looked
                continue
            if b"gst_server.py" in command:
                found.add(int(entry.name))
    return found


def test_leaving_the_context_leaves_no_process() -> None:
    with pytest.raises(RuntimeError, match="test body failed"), gst_rtsp_server(fps=5) as server:
        assert server.pid in gst_server_processes()
        assert process_group_alive(server.pid)
        with opened(server.url("/h264")) as container:
            assert video_frames(container, 1)
            raise RuntimeError("test body failed")
    assert not process_group_alive(server.pid)
    assert server.pid not in gst_server_processes()


def test_a_server_that_cannot_start_reports_its_stderr() -> None:
    with pytest.raises(GstServerError, match="must be even"), gst_rtsp_server(width=321):
        pass
