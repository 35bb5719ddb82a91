"""H.265 → H.264 transcoding: the encoder presets as data, and the worker against real RTSP."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

import av
import pytest

from dieuhanh.gateway.presets import (
    PRESETS,
    UnknownPreset,
    bitrate_cap_kbps,
    encoder_settings,
    ffmpeg_args,
    get_preset,
    output_size,
)
from dieuhanh.gateway.transcode_worker import ExitCode
from dieuhanh.simulator import RefusingPort, SimulatedCamera, SimulatorThread, run_simulator
from tests.processes import reaped

USER, PASSWORD = "operator", "H265 p@ss/word!"
LOOPBACK = ("--allowed-networks", "127.0.0.0/8")  # the test cameras' network
CAMERAS = [
    SimulatedCamera("/h265", codec="h265", width=640, height=360, fps=15),
    SimulatedCamera("/secure", codec="h265", username=USER, password=PASSWORD),
    SimulatedCamera("/pcmu", codec="h265", audio="pcmu"),
    SimulatedCamera("/stall", codec="h265", stall_after=1.0),
    SimulatedCamera("/audio-only", audio="pcmu", audio_only=True),
    SimulatedCamera("/unsupported", proprietary_video=True),
]
NON_SYNC = 0x10000  # sample_is_non_sync_sample in trun/tfhd sample flags


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorThread]:
    with run_simulator(CAMERAS, cache_dir=Path(tmp_path_factory.mktemp("clips"))) as sim:
        yield sim


# -- presets: data in, strings out ---------------------------------------------------------

LIBX264_TILE = {
    "preset": "ultrafast",
    "tune": "zerolatency",
    "profile": "main",
    "crf": "23",
    "maxrate": "800k",
    "bufsize": "800k",
    "bf": "0",
    "g": "15",
    "keyint_min": "15",
    "sc_threshold": "0",
}
NVENC_TILE = {
    "preset": "p1",
    "tune": "ll",
    "zerolatency": "1",
    "delay": "0",
    "rc-lookahead": "0",
    "profile": "main",
    "rc": "vbr",
    "cq": "26",
    "b": "0",
    "maxrate": "800k",
    "bufsize": "800k",
    "bf": "0",
    "g": "15",
    "forced-idr": "1",
}
QSV_TILE = {
    "preset": "veryfast",
    "look_ahead": "0",
    "async_depth": "1",
    "profile": "main",
    "b": "600k",
    "maxrate": "800k",
    "bufsize": "800k",
    "bf": "0",
    "g": "15",
    "forced_idr": "1",
}
VAAPI_TILE = {
    "rc_mode": "VBR",
    "async_depth": "1",
    "profile": "main",
    "b": "600k",
    "maxrate": "800k",
    "bufsize": "800k",
    "bf": "0",
    "g": "15",
}


@pytest.mark.parametrize(
    ("name", "pix_fmt", "options"),
    [
        ("libx264", "yuv420p", LIBX264_TILE),
        ("h264_nvenc", "yuv420p", NVENC_TILE),
        ("h264_qsv", "nv12", QSV_TILE),
        ("h264_vaapi", "vaapi", VAAPI_TILE),
    ],
)
def test_each_preset_gives_the_worker_its_encoder_options(
    name: str, pix_fmt: str, options: dict[str, str]
) -> None:
    settings = encoder_settings(name, width=640, height=360, fps=15)
    assert (settings.encoder, settings.pix_fmt, settings.gop, settings.max_kbps) == (
        name,
        pix_fmt,
        15,
        800,
    )
    assert settings.options == options


def test_gop_and_bitrate_follow_the_rate_and_the_size() -> None:
    full = encoder_settings("libx264", width=1920, height=1080, fps=25)
    assert (full.options["g"], full.options["maxrate"], full.options["bufsize"]) == (
        "25",
        "4000k",
        "4000k",
    )
    assert [bitrate_cap_kbps(*size) for size in [(320, 180), (640, 360), (1280, 720)]] == [
        800,
        800,
        2000,
    ]
    assert bitrate_cap_kbps(3840, 2160) == bitrate_cap_kbps(None, None) == 4000


@pytest.mark.parametrize(
    ("source", "bounds", "expected"),
    [
        ((1920, 1080), (640, None), (640, 360)),
        ((1920, 1080), (None, 480), (854, 480)),
        ((1920, 1080), (640, 480), (640, 360)),
        ((640, 360), (1280, None), (640, 360)),  # never enlarged
        ((2592, 1944), (640, None), (640, 480)),
        ((641, 361), (None, None), (640, 360)),  # 4:2:0 needs even sizes
    ],
)
def test_output_size_scales_down_only_and_keeps_the_shape(
    source: tuple[int, int], bounds: tuple[int | None, int | None], expected: tuple[int, int]
) -> None:
    assert output_size(*source, *bounds) == expected


def test_unknown_preset_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownPreset) as caught:
        get_preset("h264_amf")
    assert str(caught.value) == (
        "unknown encoder preset 'h264_amf'; valid presets: h264_nvenc, h264_qsv, h264_vaapi, "
        "libx264"
    )


COMMON_INPUT = (
    "-rtsp_transport tcp -timeout 5000000 -probesize 32768 -analyzeduration 100000 -i {url}"
)
FMP4_OUTPUT = "-f mp4 -movflags +empty_moov+default_base_moof -frag_duration 1 pipe:1"


@pytest.mark.parametrize(
    ("name", "kwargs", "expected"),
    [
        (
            "libx264",
            {"max_width": 640, "limit_fps": True, "audio": "aac"},
            f"-hide_banner -loglevel warning -nostdin {COMMON_INPUT} -map 0:v:0 -map 0:a:0? "
            "-vf fps=15,scale=w='min(iw,640)':h=-2 -c:v libx264 -pix_fmt yuv420p "
            "-preset:v ultrafast -tune:v zerolatency -profile:v main -crf:v 23 -maxrate:v 800k "
            "-bufsize:v 800k -bf:v 0 -g:v 15 -keyint_min:v 15 -sc_threshold:v 0 "
            f"-c:a aac -ar 48000 -b:a 32k {FMP4_OUTPUT}",
        ),
        (
            "h264_nvenc",
            {"max_height": 720},
            f"-hide_banner -loglevel warning -nostdin {COMMON_INPUT} -map 0:v:0 "
            "-vf scale=w=-2:h='min(ih,720)' -c:v h264_nvenc -pix_fmt yuv420p -preset:v p1 "
            "-tune:v ll -zerolatency:v 1 -delay:v 0 -rc-lookahead:v 0 -profile:v main -rc:v vbr "
            "-cq:v 26 -b:v 0 -maxrate:v 2000k -bufsize:v 2000k -bf:v 0 -g:v 15 -forced-idr:v 1 "
            f"-an {FMP4_OUTPUT}",
        ),
        (
            "h264_qsv",
            {"max_width": 640, "max_height": 480},
            f"-hide_banner -loglevel warning -nostdin {COMMON_INPUT} -map 0:v:0 "
            "-vf scale=w='min(iw,640)':h='min(ih,480)':force_original_aspect_ratio=decrease"
            ":force_divisible_by=2 -c:v h264_qsv -pix_fmt nv12 -preset:v veryfast "
            "-look_ahead:v 0 -async_depth:v 1 -profile:v main -b:v 1500k -maxrate:v 2000k "
            f"-bufsize:v 2000k -bf:v 0 -g:v 15 -forced_idr:v 1 -an {FMP4_OUTPUT}",
        ),
        (
            "h264_vaapi",
            {},
            "-hide_banner -loglevel warning -nostdin -vaapi_device /dev/dri/renderD128 "
            f"{COMMON_INPUT} -map 0:v:0 -vf format=nv12,hwupload -c:v h264_vaapi "
            "-rc_mode:v VBR -async_depth:v 1 -profile:v main -b:v 3000k -maxrate:v 4000k "
            f"-bufsize:v 4000k -bf:v 0 -g:v 15 -an {FMP4_OUTPUT}",
        ),
    ],
)
def test_ffmpeg_args_as_strings(name: str, kwargs: dict[str, object], expected: str) -> None:
    args = ffmpeg_args(name, "{url}", fps=15, **kwargs)  # type: ignore[arg-type]
    assert " ".join(args) == expected


def test_every_libx264_option_is_taken_by_the_encoder() -> None:
    settings = encoder_settings("libx264", width=640, height=360, fps=15)
    context = av.CodecContext.create("libx264", "w")
    context.width, context.height, context.pix_fmt = 640, 360, "yuv420p"
    context.time_base, context.framerate = Fraction(1, 90000), Fraction(15)
    context.options = dict(settings.options)
    context.open()
    assert dict(context.options) == {}  # FFmpeg hands back what no encoder option took


def debian_ffmpeg() -> str:
    path = shutil.which("ffmpeg", path="/usr/bin:/usr/local/bin")
    assert path, "Debian's ffmpeg (apt install ffmpeg) checks the command lines"
    return path


@pytest.mark.parametrize("name", ["h264_nvenc", "h264_qsv", "h264_vaapi"])
def test_hardware_presets_use_options_their_encoders_have(name: str) -> None:
    """No GPU here: check the names against what ffmpeg documents for each encoder."""
    ffmpeg = debian_ffmpeg()
    run = subprocess.run(
        [ffmpeg, "-hide_banner", "-h", f"encoder={name}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    generic = subprocess.run(
        [ffmpeg, "-hide_banner", "-h", "full"], capture_output=True, text=True, timeout=30
    )
    known = {
        line.split()[0].lstrip("-")
        for line in (run.stdout + generic.stdout).splitlines()
        if line.startswith("  -")
    }
    assert f"Encoder {name}" in run.stdout
    assert set(PRESETS[name].options) <= known


def test_libx264_command_line_runs_in_debian_ffmpeg(simulator: SimulatorThread) -> None:
    args = ffmpeg_args("libx264", simulator.url("/h265"), fps=15, max_width=320)
    args = [*args[:-1], "-frames:v", "20", args[-1]]  # stop after 20 frames
    run = subprocess.run([debian_ffmpeg(), *args], capture_output=True, timeout=30)
    assert run.returncode == 0, run.stderr.decode()
    stream = parse(run.stdout)
    assert stream.top[:2] == ["ftyp", "moov"] and stream.sample_entry == "avc1"
    assert stream.runs[0].keyframe
    assert decoded(run.stdout).size == (320, 180)


# -- fragmented MP4, read back -------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    track: int
    decode_time: int
    samples: int
    keyframe: bool


@dataclass(frozen=True)
class Parsed:
    top: list[str]  # top-level box types in order
    sample_entry: str | None  # of the first track: avc1, hev1, …
    runs: list[Run]  # one per traf, in order


def boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[str, int, int]]:
    end = len(data) if end is None else end
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        if size < 8 or start + size > end:
            return  # a box still being written
        yield kind.decode("latin-1"), start + 8, start + size
        start += size


def child(data: bytes, start: int, end: int, *path: str) -> tuple[int, int] | None:
    for kind, body, stop in boxes(data, start, end):
        if kind == path[0]:
            return (body, stop) if len(path) == 1 else child(data, body, stop, *path[1:])
    return None


def parse(data: bytes) -> Parsed:
    top = [kind for kind, _, _ in boxes(data)]
    sample_entry, runs = None, []
    for kind, body, end in boxes(data):
        if kind == "moov":
            stsd = child(data, body, end, "trak", "mdia", "minf", "stbl", "stsd")
            assert stsd is not None
            sample_entry = data[stsd[0] + 12 : stsd[0] + 16].decode("latin-1")
        if kind == "moof":
            runs += [read_traf(data, b, e) for k, b, e in boxes(data, body, end) if k == "traf"]
    return Parsed(top, sample_entry, runs)


def read_traf(data: bytes, start: int, end: int) -> Run:
    tfhd, tfdt, trun = (child(data, start, end, kind) for kind in ("tfhd", "tfdt", "trun"))
    assert tfhd and tfdt and trun
    tfhd_flags, track = struct.unpack(">II", data[tfhd[0] : tfhd[0] + 8])
    optional = ((1, 8), (2, 4), (8, 4), (0x10, 4))  # fields before default-sample-flags
    at = tfhd[0] + 8 + sum(size for bit, size in optional if tfhd_flags & bit)
    default_flags = struct.unpack(">I", data[at : at + 4])[0] if tfhd_flags & 0x20 else 0
    wide = data[tfdt[0]] == 1  # version 1: a 64-bit decode time
    field = data[tfdt[0] + 4 : tfdt[0] + (12 if wide else 8)]
    decode_time = struct.unpack(">Q" if wide else ">I", field)[0]
    trun_flags, count = struct.unpack(">II", data[trun[0] : trun[0] + 8])
    at = trun[0] + 8 + (4 if trun_flags & 1 else 0)
    if trun_flags & 4:
        flags = struct.unpack(">I", data[at : at + 4])[0]
    elif trun_flags & 0x400:
        at += 4 * bin(trun_flags & 0x300).count("1")
        flags = struct.unpack(">I", data[at : at + 4])[0]
    else:
        flags = default_flags
    return Run(track, decode_time, count, not flags & NON_SYNC)


@dataclass(frozen=True)
class Decoded:
    size: tuple[int, int]
    codecs: tuple[str, ...]
    video_frames: int
    audio_frames: int


def decoded(data: bytes) -> Decoded:
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        codecs = tuple(s.codec_context.name for s in container.streams)
        frames = audio = 0
        size = (0, 0)
        for frame in container.decode(*container.streams):
            if isinstance(frame, av.VideoFrame):
                frames, size = frames + 1, (frame.width, frame.height)
            else:
                audio += 1
        assert video.codec_context.name == "h264"
        return Decoded(size, codecs, frames, audio)


# -- the worker ----------------------------------------------------------------------------


class Worker:
    """The worker as the gateway runs it: the URL on stdin, pipes read in threads."""

    def __init__(self, url: str, *args: str) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dieuhanh.gateway.transcode_worker", *LOOPBACK, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.stdout, self.stderr = bytearray(), bytearray()
        self.readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.stdout)),
            threading.Thread(target=self._read, args=(self.process.stderr, self.stderr)),
        ]
        for reader in self.readers:
            reader.start()
        stdin = self.process.stdin
        assert stdin is not None
        # A worker that rejects its arguments may be gone before reading its stdin.
        with_broken_pipe_ignored(lambda: stdin.write(url.encode() + b"\n") and stdin.flush())

    @staticmethod
    def _read(pipe: io.BufferedReader | None, into: bytearray) -> None:
        assert pipe is not None
        while chunk := pipe.read1(65536):
            into += chunk

    def wait_until(self, condition: Callable[[], bool], timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if condition():
                return True
            time.sleep(0.02)
        return condition()

    def fragments(self) -> int:
        return sum(kind == "moof" for kind, _, _ in boxes(bytes(self.stdout)))

    def finish(self, timeout: float = 10.0) -> int:
        """Close stdin (the worker's signal to stop) and collect the exit code."""
        assert self.process.stdin is not None
        if not self.process.stdin.closed:
            with_broken_pipe_ignored(self.process.stdin.close)
        code = self.process.wait(timeout)
        for reader in self.readers:
            reader.join(timeout)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()
        return code

    @property
    def log(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.finish()


def with_broken_pipe_ignored(action: Callable[[], object]) -> None:
    with contextlib.suppress(BrokenPipeError):
        action()


def test_h265_becomes_h264_fragmented_mp4(simulator: SimulatorThread) -> None:
    with Worker(simulator.url("/h265"), "--preset", "libx264") as worker:
        assert worker.wait_until(lambda: worker.fragments() >= 40), worker.log
        first_keyframe = time.monotonic() - worker.started
        assert worker.finish() == ExitCode.OK
    data = bytes(worker.stdout)
    stream = parse(data)
    assert stream.top[:2] == ["ftyp", "moov"] and stream.sample_entry == "avc1"
    assert set(stream.top[2:-2]) == {"moof", "mdat"} and stream.top[2::2][:-1] == ["moof"] * (
        len(stream.top[2::2]) - 1
    )
    assert all(run.samples == 1 for run in stream.runs)  # one frame per fragment
    keyframes = [i for i, run in enumerate(stream.runs) if run.keyframe]
    assert keyframes[:3] == [0, 15, 30]  # the first fragment, then every second at 15 fps
    times = [run.decode_time for run in stream.runs]
    assert times[0] == 0 and all(0 < b - a <= 9000 for a, b in itertools.pairwise(times))
    result = decoded(data)
    assert result.size == (640, 360) and result.video_frames >= 40
    assert first_keyframe < 5.0


def test_password_never_reaches_argv_environment_or_logs(simulator: SimulatorThread) -> None:
    url = simulator.url("/secure")
    assert quote(PASSWORD, safe="") in url
    with Worker(url, "--max-width", "320") as worker:
        assert worker.wait_until(lambda: worker.fragments() >= 5), worker.log
        proc = Path(f"/proc/{worker.process.pid}")
        cmdline, environ = (proc / "cmdline").read_bytes(), (proc / "environ").read_bytes()
        assert worker.finish() == ExitCode.OK
    for text in (cmdline, environ, bytes(worker.stderr)):
        for secret in (PASSWORD, quote(PASSWORD, safe=""), url):
            assert secret.encode() not in text
    assert b"transcode_worker" in cmdline and "encoding" in worker.log
    assert decoded(bytes(worker.stdout)).size == (320, 180)


def test_audio_becomes_aac_on_the_same_timeline(simulator: SimulatorThread) -> None:
    with Worker(simulator.url("/pcmu"), "--audio", "aac") as worker:
        assert worker.wait_until(lambda: worker.fragments() >= 60), worker.log
        assert worker.finish() == ExitCode.OK
    stream = parse(bytes(worker.stdout))
    result = decoded(bytes(worker.stdout))
    assert result.codecs == ("h264", "aac") and result.audio_frames > 10
    for track, clock in ((1, 90000), (2, 48000)):
        times = [run.decode_time for run in stream.runs if run.track == track]
        assert times[0] == 0, f"track {track} starts at 0"
        assert all(b > a for a, b in itertools.pairwise(times)), f"track {track} never repeats"
        assert times[-1] / clock > 1.0


def test_exit_codes_tell_why(simulator: SimulatorThread) -> None:
    wrong_password = simulator.url("/secure").replace(quote(PASSWORD, safe=""), "not-it")
    with RefusingPort() as refusing:
        cases = [
            (refusing.url(), [], ExitCode.CANNOT_CONNECT),
            (wrong_password, [], ExitCode.UNAUTHORIZED),
            (simulator.url("/no-such-path"), [], ExitCode.CANNOT_CONNECT),
            (simulator.url("/audio-only"), [], ExitCode.BAD_STREAM),
            (simulator.url("/unsupported"), [], ExitCode.BAD_STREAM),
            (simulator.url("/h265"), ["--preset", "h264_vaapi"], ExitCode.ENCODER_UNAVAILABLE),
            (simulator.url("/h265"), ["--preset", "x265"], ExitCode.USAGE),
            ("", [], ExitCode.USAGE),
        ]
        for url, args, expected in cases:
            with Worker(url, *args) as worker:
                assert worker.process.wait(15) == expected, worker.log
            assert "not-it" not in worker.log


def test_a_stalled_stream_ends_with_its_own_code(simulator: SimulatorThread) -> None:
    with Worker(simulator.url("/stall"), "--timeout", "1") as worker:
        assert worker.process.wait(15) == ExitCode.STREAM_ENDED, worker.log
        assert worker.fragments() > 0


def test_sigterm_and_a_closed_stdout_end_it_cleanly(simulator: SimulatorThread) -> None:
    with Worker(simulator.url("/h265")) as worker:
        assert worker.wait_until(lambda: worker.fragments() >= 3), worker.log
        stopped = time.monotonic()
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(5) == ExitCode.OK
        assert time.monotonic() - stopped < 2.0
    read, write = os.pipe()
    popen = subprocess.Popen(
        [sys.executable, "-m", "dieuhanh.gateway.transcode_worker", *LOOPBACK],
        stdin=subprocess.PIPE,
        stdout=write,
        stderr=subprocess.PIPE,
    )
    os.close(write)
    with reaped(popen) as process:
        assert process.stdin is not None
        process.stdin.write(simulator.url("/h265").encode() + b"\n")
        process.stdin.flush()
        assert select.select([read], [], [], 30)[0], "the worker wrote nothing within 30 s"
        assert os.read(read, 4096)  # it is writing
        os.close(read)  # the reader went away: the next write fails with EPIPE
        assert process.wait(5) == ExitCode.OK
        process.stdin.close()
        assert process.stderr is not None and b"stdout closed" in process.stderr.read()
