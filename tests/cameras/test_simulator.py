"""The camera simulator, checked with real clients: PyAV (FFmpeg 8.1), Debian's ffprobe, raw RTSP.

The exceptions asserted for the dead cameras are the facts the stream health classifier relies
on: if an FFmpeg upgrade changes one, these tests say which.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import hashlib
import itertools
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import av
import av.error
import av.logging
import pytest

from dieuhanh.rtsp.rtp import packetize_h264, packetize_h265
from dieuhanh.simulator import (
    ClipSpec,
    ConnectionSettings,
    FlowLimits,
    GarbageServer,
    HangServer,
    LiveSettings,
    LiveSource,
    LiveSpec,
    RefusingPort,
    SimulatedCamera,
    SimulatorThread,
    live_encoder,
    load_clip,
    read_clock,
    refused_port,
    run_service,
    run_simulator,
    unresolvable_host,
)
from dieuhanh.simulator import clips as clips_module
from dieuhanh.simulator.clock_code import ClockPainter, band_height, read_clock_luma
from dieuhanh.simulator.live_sender import LiveSender
from dieuhanh.simulator.media import video_track
from dieuhanh.simulator.streaming import TrackSender
from tests.cameras import servers
from tests.processes import readline, reaped, stop

T = TypeVar("T")
USER, PASSWORD = "admin", "s3cret"
OPEN_OPTIONS = {
    "rtsp_transport": "tcp",
    "timeout": "5000000",  # socket I/O, microseconds
    "probesize": "65536",  # what the stream prober uses: opens in ~0.6 s instead of ~1.9 s
    "analyzeduration": "500000",
}
FFPROBE = Path("/usr/bin/ffprobe")
PICTURE = {"fps": 15, "gop": 5, "clip_seconds": 1.0}  # a keyframe every third of a second
CAMERAS = [
    SimulatedCamera("/h264"),
    SimulatedCamera("/h265", codec="h265"),
    *(
        SimulatedCamera(f"/{codec}-{kind}", codec=codec, kind=kind, **PICTURE)  # type: ignore[arg-type]
        for codec in ("h264", "h265")
        for kind in ("moving", "black", "frozen")
    ),
    SimulatedCamera("/auth", username=USER, password=PASSWORD),
    SimulatedCamera("/auth-basic", username=USER, password=PASSWORD, auth="basic"),
    SimulatedCamera("/auth-digest", username=USER, password=PASSWORD, auth="digest"),
    SimulatedCamera("/odd", username="ad min", password="p@ss:w/rd%"),
    SimulatedCamera("/pcmu", audio="pcmu"),
    SimulatedCamera("/aac", codec="h265", audio="aac"),
    SimulatedCamera("/audio-only", audio="pcmu", audio_only=True),
    SimulatedCamera("/proprietary", proprietary_video=True),
    SimulatedCamera("/stall", stall_after=1.5),
    SimulatedCamera("/site/gate/cam1", clip_seconds=1.0, looped=True),
    SimulatedCamera("/long-gop", gop=60),  # a keyframe every 4 s
]


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorThread]:
    with run_simulator(CAMERAS, cache_dir=tmp_path_factory.mktemp("clips")) as running:
        yield running


@pytest.fixture
def ffmpeg_errors() -> Iterator[list[tuple[int, str, str]]]:
    """FFmpeg's error messages logged in this thread during the test (decoder complaints)."""
    previous = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture() as logs:
            yield logs
    finally:
        av.logging.set_level(previous)


def open_stream(url: str, timeout: float = 5.0, read_timeout: float | None = None) -> Any:
    return av.open(url, options=OPEN_OPTIONS, timeout=(timeout, read_timeout or timeout))


def decode_video(container: Any, count: int) -> tuple[list[Any], bool]:
    """The first ``count`` frames, and whether the first packet was a keyframe."""
    stream = container.streams.video[0]
    stream.codec_context.thread_count = 1  # slice threading returns half-decoded frames
    frames: list[Any] = []
    first_key: bool | None = None
    for packet in container.demux(stream):
        if packet.size == 0:
            continue
        first_key = packet.is_keyframe if first_key is None else first_key
        frames.extend(packet.decode())
        if len(frames) >= count:
            break
    return frames, bool(first_key)


def luma(frame: Any) -> bytes:
    plane = frame.planes[0]
    data = bytes(plane)
    return b"".join(
        data[row * plane.line_size : row * plane.line_size + frame.width]
        for row in range(frame.height)
    )


# --- clips and packetization --------------------------------------------------------------


@pytest.mark.parametrize("codec", ["h264", "h265"])
def test_clip_is_whole_gops_with_parameter_sets(codec: str, tmp_path: Path) -> None:
    spec = ClipSpec(codec=codec, fps=15, gop=5, duration=0.8)  # type: ignore[arg-type]
    clip = load_clip(spec, tmp_path)
    assert len(clip.frames) == 15  # 12 frames round up to three GOPs of five
    assert [index for index, frame in enumerate(clip.frames) if frame.keyframe] == [0, 5, 10]
    assert clip.parameter_sets.sps and clip.parameter_sets.pps
    assert (clip.parameter_sets.vps is not None) == (codec == "h265")


def test_clip_cache_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = ClipSpec(kind="black", width=160, height=90)
    first = load_clip(spec, tmp_path)
    assert (tmp_path / f"{spec.cache_key}.bin").is_file()

    def no_encoding(spec: ClipSpec) -> list[bytes]:
        raise AssertionError("encoded again despite the cache")

    monkeypatch.setattr(clips_module, "encode_access_units", no_encoding)
    assert load_clip(spec, tmp_path) == first


@pytest.mark.parametrize(
    ("packetize", "header_size"), [(packetize_h264, 1), (packetize_h265, 2)], ids=["h264", "h265"]
)
def test_large_nal_units_are_fragmented_and_reassemble(packetize: Any, header_size: int) -> None:
    nal = bytes([0x65, 0x01][:header_size]) + bytes(range(256)) * 20  # 5 kB
    payloads = packetize([b"\x67\x42", nal], 1400)
    assert payloads[0] == b"\x67\x42" and all(len(p) <= 1400 for p in payloads)
    fragments = payloads[1:]
    fu_header = fragments[0][header_size]
    assert fu_header & 0x80 and fragments[-1][header_size] & 0x40  # start and end bits
    body = b"".join(fragment[header_size + 1 :] for fragment in fragments)
    assert body == nal[header_size:]


def test_slow_client_is_dropped_then_cut_off(tmp_path: Path) -> None:
    track = video_track(load_clip(ClipSpec(kind="black", width=160, height=90, gop=5), tmp_path))
    transport = FakeTransport()
    sender = TrackSender(
        track, transport, (0, 1), FlowLimits(max_buffer=1000, slow_client_timeout=2)
    )
    sender.send_frame(track.frames[0], 0, now=0.0)
    assert transport.written == 2  # a sender report, then the keyframe
    transport.buffered = 5000  # the client stopped reading
    sender.send_frame(track.frames[1], 6000, now=0.1)
    sender.send_frame(track.frames[2], 12000, now=2.2)
    assert sender.dropped_frames == 2 and transport.aborted
    transport.buffered, transport.aborted = 0, False
    sender.send_frame(track.frames[3], 18000, now=2.3)  # drained, but no keyframe yet
    sender.send_frame(track.frames[5], 30000, now=2.4)  # frame 5 is a keyframe
    assert sender.dropped_frames == 3 and sender.sent_frames == 2


class FakeTransport(asyncio.WriteTransport):
    def __init__(self) -> None:
        super().__init__()
        self.written, self.buffered, self.aborted = 0, 0, False

    def write(self, data: Any) -> None:
        self.written += 1

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def is_closing(self) -> bool:
        return False

    def abort(self) -> None:
        self.aborted = True


def test_camera_errors_name_the_choices() -> None:
    with pytest.raises(ValueError, match="h264, h265"):
        SimulatedCamera("/x", codec="mjpeg")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="both username and password"):
        SimulatedCamera("/x", username="admin")


# --- PyAV as the client ------------------------------------------------------------------


@pytest.mark.parametrize(("path", "codec"), [("/h264", "h264"), ("/h265", "hevc")])
def test_video_opens_and_decodes(
    simulator: SimulatorThread, ffmpeg_errors: list[Any], path: str, codec: str
) -> None:
    with open_stream(simulator.url(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == codec
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 360)
        assert stream.average_rate == 15
        frames, first_key = decode_video(container, 20)
    assert first_key, "a new client must start on a keyframe"
    assert len(frames) == 20 and not any(frame.is_corrupt for frame in frames)
    assert ffmpeg_errors == []


@pytest.mark.parametrize("codec", ["h264", "h265"])
@pytest.mark.parametrize("kind", ["moving", "black", "frozen"])
def test_pictures(simulator: SimulatorThread, codec: str, kind: str) -> None:
    with open_stream(simulator.url(f"/{codec}-{kind}")) as container:
        frames, _ = decode_video(container, 8)  # crosses a keyframe: GOP of 5
    pictures = [luma(frame) for frame in frames]
    means = [sum(picture) / len(picture) for picture in pictures]
    if kind == "black":
        assert max(means) <= 20
    elif kind == "frozen":
        assert min(means) > 60 and len(set(pictures)) == 1
    else:
        assert min(means) > 60
        assert all(a != b for a, b in itertools.pairwise(pictures))


def test_two_clients_on_one_mount(simulator: SimulatorThread) -> None:
    with (
        open_stream(simulator.url("/h264")) as first,
        open_stream(simulator.url("/h264")) as second,
    ):
        counts = [0, 0]
        demuxers = [first.demux(first.streams.video[0]), second.demux(second.streams.video[0])]
        while min(counts) < 10:
            for index, demuxer in enumerate(demuxers):
                counts[index] += 1 if next(demuxer).size else 0
        assert simulator.server.connection_count >= 2


@pytest.mark.parametrize("path", ["/auth", "/auth-basic", "/auth-digest", "/odd"])
def test_right_credentials_open(simulator: SimulatorThread, path: str) -> None:
    # /auth-basic accepts only Basic and /auth-digest only Digest: each scheme works on its own.
    # /odd has a space, "@", ":", "/" and "%" in its credentials, percent-encoded in the URL.
    with open_stream(simulator.url(path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"


@pytest.mark.parametrize("userinfo", ["", "admin:wrong@", "bob:s3cret@"])
def test_missing_or_wrong_credentials(simulator: SimulatorThread, userinfo: str) -> None:
    url = simulator.url("/auth", with_credentials=False).replace("rtsp://", f"rtsp://{userinfo}")
    with pytest.raises(av.error.HTTPUnauthorizedError) as caught:
        open_stream(url)
    assert "401 Unauthorized" in str(caught.value)


def test_unknown_path(simulator: SimulatorThread) -> None:
    with pytest.raises(av.error.HTTPNotFoundError, match="404 Not Found"):
        open_stream(simulator.url("/nope"))


@pytest.mark.parametrize(
    ("path", "codec", "rate"), [("/pcmu", "pcm_mulaw", 8000), ("/aac", "aac", 16000)]
)
def test_audio_track(simulator: SimulatorThread, path: str, codec: str, rate: int) -> None:
    with open_stream(simulator.url(path)) as container:
        assert len(container.streams.video) == 1
        audio = container.streams.audio[0]
        assert (audio.codec_context.name, audio.codec_context.sample_rate) == (codec, rate)
        samples = 0
        for packet in container.demux(audio):
            samples += sum(frame.samples for frame in packet.decode())
            if samples >= rate // 4:
                break


def test_audio_only_camera_has_no_video(simulator: SimulatorThread) -> None:
    with open_stream(simulator.url("/audio-only")) as container:
        assert [stream.type for stream in container.streams] == ["audio"]
        assert container.streams.audio[0].codec_context.name == "pcm_mulaw"


def test_proprietary_video_cannot_be_decoded(simulator: SimulatorThread) -> None:
    with open_stream(simulator.url("/proprietary")) as container:
        (stream,) = container.streams
        assert stream.type == "video"
        assert stream.codec_context is None  # FFmpeg found no codec for X-HIK-PRIVATE
        packet = next(container.demux(stream))
        assert bytes(packet).startswith(b"IMKH")
        with pytest.raises(av.error.DecoderNotFoundError):
            packet.decode()


def test_stalled_stream_times_out_while_connected(simulator: SimulatorThread) -> None:
    with open_stream(simulator.url("/stall"), read_timeout=1.0) as container:
        received = 0
        started = time.monotonic()
        with pytest.raises(av.error.ExitError):  # PyAV's read timeout interrupts FFmpeg
            for packet in container.demux(container.streams.video[0]):
                received += 1 if packet.size else 0
        assert received >= 5 and time.monotonic() - started < 6
        assert simulator.server.connection_count >= 1  # the camera kept the connection


# --- live sources --------------------------------------------------------------------------


@pytest.mark.parametrize("width", [640, 320, 100, 1920])
def test_clock_code_reads_back_what_was_drawn(width: int) -> None:
    stride = width + 12  # padded rows, as FFmpeg lays planes out
    luma = bytearray(b"\x80" * stride * band_height(width))
    with pytest.raises(ValueError, match="no time code"):
        read_clock_luma(bytes(luma), stride, width)
    painter = ClockPainter(width, stride)
    for millis in (1_767_225_600_123, 1_767_225_600_190, 2**48 - 1, 0):  # patched, not redrawn
        painter.draw(luma, millis)
        assert read_clock_luma(bytes(luma), stride, width) == millis / 1000


def test_live_pictures_need_room_for_the_clock_code() -> None:
    with pytest.raises(ValueError, match="too flat"):
        SimulatedCamera("/x", width=640, height=100)
    assert SimulatedCamera("/x", width=640, height=100, looped=True).live_spec is None
    assert SimulatedCamera("/x", kind="frozen").live_spec is None


def first_picture(url: str) -> Any:
    with open_stream(url) as container:
        frames, first_key = decode_video(container, 1)
    assert first_key
    return frames[0]


def test_sessions_seconds_apart_start_on_different_keyframes(simulator: SimulatorThread) -> None:
    first = first_picture(simulator.url("/h264"))
    time.sleep(2)  # a health monitor's checks are minutes apart; two GOPs tell as much
    second = first_picture(simulator.url("/h264"))
    assert luma(first) != luma(second)
    assert read_clock(second) - read_clock(first) >= 1.5


@pytest.mark.parametrize("path", ["/h264", "/h265"])
def test_clock_code_shows_the_wall_clock(simulator: SimulatorThread, path: str) -> None:
    with open_stream(simulator.url(path)) as container:
        frames, _ = decode_video(container, 20)
        delays = [time.time() - servers.read_clock(frame) for frame in frames]
    # The GOP cache and the frames queued while FFmpeg probed are older: the freshest frames
    # show the glass-to-glass delay, on loopback a few frame intervals at most.
    assert -0.05 < min(delays) < 0.5, delays
    assert max(delays) < 2.0, delays  # at most a GOP (1 s) of cache, plus probing


def test_new_session_starts_at_once_from_the_gop_cache(simulator: SimulatorThread) -> None:
    url = simulator.url("/long-gop")  # a keyframe every 4 s
    with open_stream(url) as watcher:  # a first viewer, so the encoder is running
        decode_video(watcher, 15)  # a second: the next keyframe is seconds away
        raw = RawRtsp(simulator.port)
        try:
            assert raw.request("DESCRIBE", url)[0] == 200
            raw.request("SETUP", f"{url}/trackID=0", Transport="RTP/AVP/TCP;interleaved=0-1")
            started = time.monotonic()
            _, headers, _ = raw.request("PLAY", url)
            frames = read_frames(raw, 10)
            elapsed = time.monotonic() - started
            info = dict(part.split("=", 1) for part in headers["rtp-info"][0].split(";")[1:])
            raw.interleaved.clear()
            assert raw.request("PAUSE", url)[0] == 200  # reads what was sent before the pause
            sent_before_pause = [packet for channel, packet in raw.interleaved if channel == 0]
            raw.request("PLAY", url)
            resumed = read_frames(raw, 3)
        finally:
            raw.close()
    assert frames[0].payloads[0][0] & 0x1F == 7  # SPS: the cached keyframe comes first
    assert elapsed < 0.5, "10 cached frames arrive in a burst, not at 15 fps"
    assert frames[0].timestamp == int(info["rtptime"])
    steps = {(b.timestamp - a.timestamp) % 2**32 for a, b in itertools.pairwise(frames)}
    assert steps == {6000}  # capture times, 90 kHz / 15 fps, though sent in a burst
    # After PAUSE/PLAY the stream goes on from the next frame: no repeats, no gap in sequence.
    last_sequence, last_timestamp = frames[-1].last_sequence, frames[-1].timestamp
    if sent_before_pause:
        last_sequence, last_timestamp = rtp_header(sent_before_pause[-1])
    assert resumed[0].sequence == (last_sequence + 1) % 65536
    assert (resumed[0].timestamp - last_timestamp) % 2**32 == 6000


def test_mounts_of_one_spec_share_one_encoder(tmp_path: Path) -> None:
    spec = {"width": 336, "height": 192, "fps": 12}  # no other test's simulator encodes this
    cameras = [SimulatedCamera(f"/cam/{number}", **spec) for number in range(40)]  # type: ignore[arg-type]
    cameras.append(SimulatedCamera("/other", codec="h265", **spec))  # type: ignore[arg-type]
    with run_simulator(cameras, cache_dir=tmp_path) as sim:
        sources = sim.server.live_sources
        assert len(sources) == 2 and sources.running_count == 0  # started on first use only
        paths = ["/cam/0", "/cam/7", "/cam/39", "/cam/7"]
        containers = [open_stream(sim.url(path)) for path in paths]
        try:
            for container in containers:
                frames, first_key = decode_video(container, 2)
                assert first_key and len(frames) == 2
            threads = [t for t in threading.enumerate() if "336x192" in t.name]
            assert [t.name for t in threads] == ["live-encoder-h264-336x192-12fps-gop12"]
            assert sources.running_count == 1
            h264 = next(source for source in sources if source.spec.codec == "h264")
            assert h264.subscriber_count == 4 and h264.starts == 1
        finally:
            for container in containers:
                container.close()


def test_idle_encoder_stops_and_restarts(tmp_path: Path) -> None:
    camera = SimulatedCamera("/cam", width=320, height=180, fps=9)
    with run_simulator([camera], cache_dir=tmp_path, live=LiveSettings(idle_timeout=0.5)) as sim:
        (source,) = sim.server.live_sources
        with open_stream(sim.url("/cam")) as container:
            decode_video(container, 3)
            (thread,) = [t for t in threading.enumerate() if t.name.endswith("320x180-9fps-gop9")]
        closed = time.monotonic()
        thread.join(timeout=5)
        assert not thread.is_alive() and not source.running
        assert 0.4 < time.monotonic() - closed < 2
        with open_stream(sim.url("/cam")) as container:
            frames, first_key = decode_video(container, 3)
        assert first_key and len(frames) == 3 and source.starts == 2
    assert not any(t.name.endswith("320x180-9fps-gop9") for t in threading.enumerate())


def test_encoder_that_fails_to_start_answers_503(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(spec: LiveSpec) -> None:
        raise av.error.ExternalError(-1, "no encoder here")

    monkeypatch.setattr(live_encoder, "open_encoder", broken)
    camera = SimulatedCamera("/cam", width=320, height=180, fps=8)
    with run_simulator([camera], cache_dir=tmp_path) as sim:
        raw = RawRtsp(sim.port)
        try:
            assert raw.request("DESCRIBE", sim.url("/cam"))[0] == 503
            assert raw.request("OPTIONS", sim.url("/cam"))[0] == 200  # the connection lives on
        finally:
            raw.close()
        (source,) = sim.server.live_sources
        assert not source.running and source.starts == 1
    assert "live encoder h264-320x180-8fps-gop8 failed" in caplog.text


def run_in_new_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: Playwright's sync API, once the page tests have
    started a browser, keeps an event loop running in the main thread for the whole session."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_slow_session_does_not_hold_back_the_others() -> None:
    limits = FlowLimits(max_buffer=1000, slow_client_timeout=0.5)
    fast, stuck = FakeTransport(), FakeTransport()
    stuck.buffered = 10_000  # this client stopped reading

    async def watch() -> list[LiveSender]:
        source = LiveSource(LiveSpec(width=160, height=90, fps=20, gop=10), LiveSettings())
        await source.ready()
        senders = [LiveSender(source, transport, (0, 1), limits) for transport in (fast, stuck)]
        for sender in senders:
            sender.play(None)
        await asyncio.sleep(1.2)
        await source.close()
        return senders

    on_time, slow = run_in_new_loop(watch())
    assert stuck.aborted and slow.sent_frames == 0 and slow.dropped_frames > 10
    assert on_time.dropped_frames == 0 and on_time.sent_frames > 20
    assert not fast.aborted


# --- dead cameras ---------------------------------------------------------------------------


def test_hang_server_fails_as_invalid_data_after_the_timeout() -> None:
    with run_service(HangServer()) as hang:
        started = time.monotonic()
        with pytest.raises(av.error.InvalidDataError):  # not ExitError: RTSP got no reply
            open_stream(hang.url("/stream"), timeout=1.0)
        assert 0.9 < time.monotonic() - started < 3


@pytest.mark.parametrize("mode", ["close", "stream"])
def test_garbage_server_fails_as_invalid_data_at_once(mode: str) -> None:
    with run_service(GarbageServer(mode)) as garbage:  # type: ignore[arg-type]
        started = time.monotonic()
        with pytest.raises(av.error.InvalidDataError):
            open_stream(garbage.url("/stream"))
        assert time.monotonic() - started < 2


def test_refused_port() -> None:
    with RefusingPort() as port, pytest.raises(ConnectionRefusedError) as caught:
        open_stream(port.url())
    assert isinstance(caught.value, av.error.FFmpegError)
    assert caught.value.errno == errno.ECONNREFUSED
    with pytest.raises(ConnectionRefusedError):
        open_stream(f"rtsp://127.0.0.1:{refused_port()}/stream")


def test_unresolvable_host() -> None:
    host = unresolvable_host()
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo(host, 554)
    # FFmpeg reports a failed lookup as a bare EIO: resolve first to tell DNS apart.
    with pytest.raises(av.error.OSError) as caught:
        open_stream(f"rtsp://{host}:554/stream")
    assert caught.value.errno == errno.EIO


# --- the RTSP dialogue, byte by byte -------------------------------------------------------


class RawRtsp:
    """Just enough of an RTSP client to look at what the server sends."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buffer = b""
        self.cseq = 0
        self.session: str | None = None
        self.interleaved: list[tuple[int, bytes]] = []

    def close(self) -> None:
        self.socket.close()

    def request(
        self, method: str, url: str, **headers: str
    ) -> tuple[int, dict[str, list[str]], bytes]:
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}"]
        if self.session:
            lines.append(f"Session: {self.session}")
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        self.socket.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while self._peek(1) == b"$":
            self.interleaved.append(self.packet())
        head = self._read_until(b"\r\n\r\n").decode()
        status = int(head.split()[1])
        fields: dict[str, list[str]] = {}
        for line in head.split("\r\n")[1:]:
            if line:
                name, _, value = line.partition(":")
                fields.setdefault(name.lower(), []).append(value.strip())
        assert fields["cseq"] == [str(self.cseq)]
        if "session" in fields:
            self.session = fields["session"][0].split(";")[0]
        return status, fields, self._read(int(fields.get("content-length", ["0"])[0]))

    def packet(self) -> tuple[int, bytes]:
        header = self._read(4)
        assert header[:1] == b"$", header
        return header[1], self._read(int.from_bytes(header[2:4], "big"))

    def _peek(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        return self.buffer[:size]

    def _read(self, size: int) -> bytes:
        self._peek(size)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _read_until(self, end: bytes) -> bytes:
        while end not in self.buffer:
            self._fill()
        index = self.buffer.index(end) + len(end)
        data, self.buffer = self.buffer[:index], self.buffer[index:]
        return data

    def _fill(self) -> None:
        chunk = self.socket.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk


@dataclass(frozen=True)
class RtpFrameSeen:
    sequence: int  # of its first packet
    timestamp: int
    payloads: list[bytes]

    @property
    def last_sequence(self) -> int:
        return (self.sequence + len(self.payloads) - 1) % 65536


def rtp_header(packet: bytes) -> tuple[int, int]:
    """(sequence number, timestamp) of an RTP packet."""
    return int.from_bytes(packet[2:4], "big"), int.from_bytes(packet[4:8], "big")


def read_frames(raw: RawRtsp, count: int) -> list[RtpFrameSeen]:
    """The next ``count`` marker-ended frames on channel 0; RTCP is skipped."""
    frames: list[RtpFrameSeen] = []
    payloads: list[bytes] = []
    first_sequence = 0
    while len(frames) < count:
        channel, packet = raw.packet()
        if channel != 0:
            continue
        sequence, timestamp = rtp_header(packet)
        first_sequence = first_sequence if payloads else sequence
        payloads.append(packet[12:])
        if packet[1] & 0x80:
            frames.append(RtpFrameSeen(first_sequence, timestamp, payloads))
            payloads = []
    return frames


@pytest.fixture
def raw(simulator: SimulatorThread) -> Iterator[RawRtsp]:
    client = RawRtsp(simulator.port)
    yield client
    client.close()


def test_describe_gives_codec_parameters(simulator: SimulatorThread, raw: RawRtsp) -> None:
    status, headers, _ = raw.request("OPTIONS", simulator.url("/h264"))
    assert status == 200 and "GET_PARAMETER" in headers["public"][0]
    status, headers, body = raw.request(
        "DESCRIBE", simulator.url("/h264"), Accept="application/sdp"
    )
    sdp = body.decode()
    assert status == 200 and headers["content-base"] == [simulator.url("/h264") + "/"]
    assert "a=rtpmap:96 H264/90000" in sdp and "a=framerate:15" in sdp
    assert "packetization-mode=1;profile-level-id=4D40" in sdp and "sprop-parameter-sets=Z" in sdp
    assert "a=control:trackID=0" in sdp
    _, _, body = raw.request("DESCRIBE", simulator.url("/aac"))
    sdp = body.decode()
    assert "a=rtpmap:96 H265/90000" in sdp and "sprop-vps=" in sdp and "sprop-pps=" in sdp
    assert "MPEG4-GENERIC/16000/1" in sdp and "a=control:trackID=1" in sdp


def test_udp_is_refused_with_461(simulator: SimulatorThread, raw: RawRtsp) -> None:
    url = simulator.url("/h264")
    status, _, _ = raw.request(
        "SETUP", f"{url}/trackID=0", Transport="RTP/AVP;unicast;client_port=5000-5001"
    )
    assert status == 461


def test_rtp_runs_on_across_the_loop(simulator: SimulatorThread, raw: RawRtsp) -> None:
    url = simulator.url("/site/gate/cam1")  # a one-second clip of 15 frames
    status, headers, _ = raw.request(
        "SETUP", f"{url}/trackID=0", Transport="RTP/AVP/TCP;unicast;interleaved=0-1"
    )
    assert status == 200 and "interleaved=0-1" in headers["transport"][0]
    assert headers["session"][0].endswith(";timeout=60")
    status, headers, _ = raw.request("PLAY", url + "/", Range="npt=0.000-")
    info = dict(part.split("=", 1) for part in headers["rtp-info"][0].split(";")[1:])
    frames: list[tuple[int, list[bytes]]] = []  # (timestamp, payloads) per marker-ended frame
    sequence, payloads, reports = int(info["seq"]), [], 0
    while len(frames) < 18:
        channel, packet = raw.packet()
        if channel == 1:
            reports += packet[1] == 200  # RTCP sender report
            continue
        assert channel == 0 and int.from_bytes(packet[2:4], "big") == sequence % 65536
        sequence += 1
        payloads.append(packet[12:])
        if packet[1] & 0x80:  # marker: the frame's last packet
            frames.append((int.from_bytes(packet[4:8], "big"), payloads))
            payloads = []
    assert reports >= 1 and frames[0][0] == int(info["rtptime"])
    steps = {(b[0] - a[0]) % 2**32 for a, b in itertools.pairwise(frames)}
    assert steps == {6000}  # 90 kHz / 15 fps, across the loop too
    assert frames[0][1][0][0] & 0x1F == 7 and frames[15][1][0][0] & 0x1F == 7  # SPS: a keyframe


def test_keepalive_pause_and_teardown(simulator: SimulatorThread, raw: RawRtsp) -> None:
    url = simulator.url("/h264")
    raw.request("SETUP", f"{url}/trackID=0", Transport="RTP/AVP/TCP;unicast;interleaved=0-1")
    assert raw.request("PLAY", url)[0] == 200
    assert raw.request("GET_PARAMETER", url)[0] == 200
    assert raw.request("OPTIONS", url)[0] == 200
    assert raw.request("PAUSE", url)[0] == 200
    assert raw.request("TEARDOWN", url)[0] == 200
    raw.session = "NOT-A-SESSION"
    assert raw.request("PLAY", url)[0] == 454


def test_401_offers_digest_and_basic(simulator: SimulatorThread, raw: RawRtsp) -> None:
    url = simulator.url("/auth", with_credentials=False)
    status, headers, _ = raw.request("DESCRIBE", url)
    challenges = headers["www-authenticate"]
    assert status == 401 and challenges[0].startswith("Digest realm=") and "nonce=" in challenges[0]
    assert challenges[1].startswith("Basic realm=")
    wrong = base64.b64encode(f"{USER}:nope".encode()).decode()
    assert raw.request("DESCRIBE", url, Authorization=f"Basic {wrong}")[0] == 401
    right = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert raw.request("DESCRIBE", url, Authorization=f"Basic {right}")[0] == 200
    nonce = challenges[0].split('nonce="')[1].split('"')[0]
    realm = challenges[0].split('realm="')[1].split('"')[0]
    answer = _md5(f"{_md5(f'{USER}:{realm}:{PASSWORD}')}:{nonce}:{_md5(f'DESCRIBE:{url}')}")
    digest = f'Digest username="{USER}", realm="{realm}", nonce="{nonce}", uri="{url}"'
    digest += f', response="{answer}"'
    assert raw.request("DESCRIBE", url, Authorization=digest)[0] == 200


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_silent_connections_are_closed_after_the_session_timeout(tmp_path: Path) -> None:
    settings = ConnectionSettings(session_timeout=1)
    cameras = [SimulatedCamera("/cam", kind="black", width=160, height=90)]
    with run_simulator(cameras, cache_dir=tmp_path, settings=settings) as short:
        client = RawRtsp(short.port)
        started = time.monotonic()
        assert client.socket.recv(1) == b""  # closed by the server
        assert 0.9 < time.monotonic() - started < 3
        client.close()


def test_stop_frees_the_port(tmp_path: Path) -> None:
    running = run_simulator(
        [SimulatedCamera("/cam", kind="black", width=160, height=90)], cache_dir=tmp_path
    )
    port = running.port
    assert port > 0
    running.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


# --- other clients --------------------------------------------------------------------------


if FFPROBE.exists():  # Debian's FFmpeg 5.1, when installed: an older client than PyAV's

    @pytest.mark.parametrize(("path", "codec"), [("/h264", "h264"), ("/h265", "hevc")])
    def test_ffprobe_reads(simulator: SimulatorThread, path: str, codec: str) -> None:
        command = [str(FFPROBE), "-v", "error", "-rtsp_transport", "tcp", "-of", "json"]
        command += ["-show_entries", "stream=codec_name,width,height,avg_frame_rate"]
        result = subprocess.run(
            [*command, simulator.url(path)], capture_output=True, text=True, timeout=20, check=True
        )
        (stream,) = json.loads(result.stdout)["streams"]
        assert stream == {
            "codec_name": codec,
            "width": 640,
            "height": 360,
            "avg_frame_rate": "15/1",
        }


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_command_line_serves_the_samples(tmp_path: Path, signum: signal.Signals) -> None:
    """It stops on Ctrl-C or SIGTERM even when started with SIGINT ignored, as a shell started in
    the background (``./scripts/test &``, ``nohup``, some CI runners) starts its children."""
    command = [sys.executable, "-m", "dieuhanh.simulator", "--port", "0"]
    command += ["--cache-dir", str(tmp_path)]
    popen = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, preexec_fn=ignore_sigint)
    with reaped(popen) as process:
        assert process.stdout is not None
        urls = []
        while not (line := readline(process.stdout, timeout=60)).startswith("Ctrl-C"):
            assert line, "the simulator ended before serving"
            urls.append(line.strip())
        assert any(url.endswith("/h265") for url in urls)
        with open_stream(next(url for url in urls if url.endswith("/auth"))) as container:
            assert container.streams.video[0].codec_context.name == "h264"
        assert stop(process, signum, timeout=10) == 0


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
