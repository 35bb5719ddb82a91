"""The transcode worker: one camera's RTSP stream in, H.264 fragmented MP4 out on stdout.

Run by the gateway (under :class:`~dieuhanh.gateway.supervisor.SupervisedProcess`) when a browser
cannot decode a camera's H.265::

    echo "$URL" | python -m dieuhanh.gateway.transcode_worker --preset libx264 --max-width 640

The URL, password included, is the first line of **stdin**: never argv or the environment, which
other local users can read in ``ps`` and ``/proc/PID/cmdline``. After it, stdin stays open; its
end means "stop". Stdout carries ``ftyp`` + ``moov`` (the init segment), then ``moof`` +
``mdat`` fragments, each with one video frame (track 1, timescale 90000); a keyframe starts the
first fragment and every 1 s GOP. With ``--audio aac`` there is a track 2 (AAC-LC, 48 kHz): a
fragment then holds a video frame and the AAC frames muxed with it, or AAC frames alone. Each
track's timestamps start at 0 and only go forward. Stderr carries one log line per event,
passwords masked.

A separate process because transcoding is CPU-heavy and FFmpeg can crash: neither may take the
gateway down. The worker ends by itself when its parent dies (PDEATHSIG set by the supervisor,
``getppid()`` polled as a fallback), when stdin ends or stdout breaks, and on SIGTERM/SIGINT.

Exit codes: see :class:`ExitCode`; 0 means stopped as asked.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from fractions import Fraction
from types import FrameType
from typing import Any
from urllib.parse import unquote, urlsplit

import av
import av.error
import av.logging
from av.codec.context import Flags2
from av.video.frame import PictureType
from av.video.reformatter import VideoReformatter

from dieuhanh.core.network import NetworkPolicy, NetworkRefused, resolve, safety_options
from dieuhanh.core.redact import scrub
from dieuhanh.gateway.presets import (
    AAC_BITRATE,
    AAC_RATE,
    ANALYZEDURATION_US,
    AUDIO_MODES,
    DEFAULT_PRESET,
    FMP4_OPTIONS,
    OPEN_TIMEOUT_S,
    PRESETS,
    PROBESIZE,
    AudioMode,
    EncoderSettings,
    Preset,
    UnknownPreset,
    encoder_settings,
    get_preset,
    output_size,
)


class ExitCode(IntEnum):
    """The worker's exit status; the supervisor reports the name."""

    OK = 0  # stopped: signal, stdin closed, stdout closed, parent gone
    INTERNAL = 1  # an unexpected error (a bug): the traceback is on stderr
    USAGE = 2  # unknown preset, bad option, no URL on stdin
    CANNOT_CONNECT = 10  # refused, DNS, timeout, RTSP 404, not RTSP at all
    UNAUTHORIZED = 11  # RTSP 401/403: wrong user name or password
    STREAM_ENDED = 12  # the stream ended or stalled after playing
    ENCODER_UNAVAILABLE = 13  # no such encoder in PyAV's FFmpeg, or no GPU/driver for it
    BAD_STREAM = 14  # no video track, or one that cannot be decoded
    NETWORK_REFUSED = 15  # the camera's address is outside --allowed-networks


PARENT_POLL_S = 0.2  # how soon the main loop sees a signal noted or the parent gone
STOP_GRACE_S = 1.0  # time the pipeline gets to notice a stop before the process just exits
FALLBACK_FPS = 15  # when neither --fps nor the SDP gives a frame rate
MAX_PTS_STEP_S = 10.0  # a larger jump (camera clock reset) is replaced by one frame's duration
VIDEO_TIME_BASE = Fraction(1, 90000)
AUDIO_SLACK_S = 0.2  # audio this far off its expected time is padded or dropped, not shifted
AUDIO_MAX_LAG_S = 0.5  # audio further behind the video than this is filled with silence

log = logging.getLogger("dieuhanh.gateway.transcode_worker")


class WorkerExit(Exception):
    """Ends the worker with ``code``; the message is logged (scrubbed)."""

    def __init__(self, code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Options:
    preset: Preset
    max_width: int | None
    max_height: int | None
    fps: int | None
    audio: AudioMode
    timeout: float
    networks: tuple[str, ...] = ()


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m dieuhanh.gateway.transcode_worker",
        description="RTSP (URL on stdin) to H.264 fragmented MP4 on stdout.",
    )
    parser.add_argument("--preset", default=DEFAULT_PRESET, help=f"one of {', '.join(PRESETS)}")
    parser.add_argument("--max-width", type=int, help="scale down to at most this width")
    parser.add_argument("--max-height", type=int, help="scale down to at most this height")
    parser.add_argument("--fps", type=int, help="at most this many frames per second")
    parser.add_argument("--audio", choices=AUDIO_MODES, default="drop")
    parser.add_argument("--timeout", type=float, default=OPEN_TIMEOUT_S, help="seconds")
    parser.add_argument(
        "--allowed-networks",
        help="CIDR networks the camera may be in, comma-separated (cameras.allowed_networks; "
        "default: its default, the private ranges)",
    )
    args = parser.parse_args(argv)
    try:
        preset = get_preset(args.preset)
    except UnknownPreset as exc:
        parser.error(str(exc))  # exits with 2
    for name in ("max_width", "max_height", "fps"):
        value = getattr(args, name)
        if value is not None and value < 2:
            parser.error(f"--{name.replace('_', '-')} must be at least 2")
    if args.allowed_networks is None:
        # Loaded only here: the gateway always passes the networks, and the settings' imports
        # (pydantic) would add a second to every transcode's start on a busy machine.
        from dieuhanh.core.config import PRIVATE_NETWORKS

        args.allowed_networks = ",".join(PRIVATE_NETWORKS)
    networks = tuple(n.strip() for n in args.allowed_networks.split(",") if n.strip())
    try:
        NetworkPolicy.of(networks, own=())
    except ValueError as exc:
        parser.error(f"--allowed-networks: {exc}")
    return Options(
        preset, args.max_width, args.max_height, args.fps, args.audio, args.timeout, networks
    )


def url_secrets(url: str) -> tuple[str, ...]:
    """The password, as typed and percent-decoded, for :func:`scrub`."""
    password = urlsplit(url).password
    return (password, unquote(password)) if password else ()


def check_encoder(preset: Preset) -> None:
    """Open the encoder once on a small picture, so a missing GPU fails before connecting."""
    if not preset.in_worker:
        raise WorkerExit(
            ExitCode.ENCODER_UNAVAILABLE,
            f"{preset.name} needs frames uploaded to a device, which this worker cannot do; "
            "run ffmpeg with presets.ffmpeg_args() instead",
        )
    settings = encoder_settings(preset, width=256, height=144, fps=15)
    try:
        _open_encoder(settings)
    except Exception as exc:  # every FFmpeg failure here means "cannot use this encoder"
        raise WorkerExit(
            ExitCode.ENCODER_UNAVAILABLE, f"{preset.encoder}: {_describe(exc)}"
        ) from None


def _open_encoder(settings: EncoderSettings) -> None:
    context: Any = av.CodecContext.create(settings.encoder, "w")
    context.width, context.height = settings.width, settings.height
    context.pix_fmt = settings.pix_fmt
    context.time_base, context.framerate = VIDEO_TIME_BASE, Fraction(settings.fps)
    context.options = dict(settings.options)
    context.open()
    if context.options:  # FFmpeg hands back what the encoder did not take
        log.warning("%s ignored options: %s", settings.encoder, dict(context.options))


def _describe(exc: BaseException) -> str:
    # PyAV puts the URL in str(exc); strerror is FFmpeg's message alone.
    return f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"


def check_network(url: str, networks: Sequence[str]) -> None:
    """The camera-network policy, at each (re)start: the address may have changed since."""
    host = urlsplit(url).hostname or ""
    try:
        NetworkPolicy.of(networks).check(host, resolve(host))
    except OSError as exc:
        raise WorkerExit(ExitCode.CANNOT_CONNECT, f"cannot resolve {host}: {exc}") from None
    except NetworkRefused as exc:
        raise WorkerExit(ExitCode.NETWORK_REFUSED, exc.message) from None


def open_input(url: str, timeout: float) -> Any:
    options = {
        "rtsp_transport": "tcp",  # cameras behind NAT/firewalls rarely let RTP over UDP back
        "timeout": str(int(timeout * 1_000_000)),
        "probesize": PROBESIZE,
        "analyzeduration": ANALYZEDURATION_US,
        **safety_options(url),
    }
    try:
        return av.open(url, options=options, timeout=(timeout, timeout))
    except (av.error.HTTPUnauthorizedError, av.error.HTTPForbiddenError) as exc:
        raise WorkerExit(ExitCode.UNAUTHORIZED, f"unauthorized: {_describe(exc)}") from None
    except Exception as exc:  # refused, DNS, timeout, 404, garbage: the camera is unreachable
        raise WorkerExit(ExitCode.CANNOT_CONNECT, f"cannot connect: {_describe(exc)}") from None


class StdoutSink:
    """Where PyAV writes the muxed bytes: straight to fd 1, so each fragment leaves at once."""

    def __init__(self, fd: int = 1) -> None:
        self.fd = fd

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]
        return len(data)


class AudioTrack:
    """AAC at 48 kHz from whatever the camera sends: continuous from 0, never far behind video.

    Re-encoded even when the camera sends AAC: with an empty moov the muxer starts every track
    at 0, so a copied track that begins after the video would play early; and a browser stalls
    when one track has no data, so gaps (and a camera that stops sending) become silence.
    """

    def __init__(self, output: Any, decoder: Any) -> None:
        self.layout = "mono" if decoder.layout.nb_channels == 1 else "stereo"
        self.stream: Any = output.add_stream("aac", rate=AAC_RATE)
        self.stream.layout = self.layout
        self.stream.bit_rate = int(AAC_BITRATE.removesuffix("k")) * 1000
        self.resampler = av.AudioResampler(format="fltp", layout=self.layout, rate=AAC_RATE)
        self.next = 0  # pts (1/AAC_RATE) of the next sample

    def add(self, frame: Any, elapsed: float) -> list[Any]:
        """Encode a decoded frame that the source timed at ``elapsed`` s after the first video."""
        target = round(elapsed * AAC_RATE)
        if target < self.next - AUDIO_SLACK_S * AAC_RATE:
            return []  # ahead of the source (after silence was filled in): catch up by dropping
        packets = self.fill(target) if target > self.next + AUDIO_SLACK_S * AAC_RATE else []
        for out in self.resampler.resample(frame):
            packets += self._encode(out)
        return packets

    def keep_up(self, video_elapsed: float) -> list[Any]:
        """Silence when the camera's audio lags the video by more than half a second."""
        if self.next < (video_elapsed - AUDIO_MAX_LAG_S) * AAC_RATE:
            return self.fill(round(video_elapsed * AAC_RATE))
        return []

    def fill(self, until: int) -> list[Any]:
        packets: list[Any] = []
        while self.next < until:
            frame = av.AudioFrame(
                format="fltp", layout=self.layout, samples=min(until - self.next, AAC_RATE // 10)
            )
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            frame.sample_rate = AAC_RATE
            packets += self._encode(frame)
        return packets

    def _encode(self, frame: Any) -> list[Any]:
        frame.pts, frame.time_base = self.next, Fraction(1, AAC_RATE)
        self.next += frame.samples
        # The encoder's priming packet has a negative time; the muxer would shift every track
        # by it (avoid_negative_ts), leaving the first video frame too long.
        return [p for p in self.stream.encode(frame) if p.pts is None or p.pts >= 0]


class Transcoder:
    """Demux → decode → scale → encode → mux, one packet at a time, until told to stop."""

    def __init__(self, options: Options, stop: threading.Event) -> None:
        self.options, self.stop = options, stop
        self.output: Any = None
        self.video_out: Any = None
        self.audio_out: AudioTrack | None = None
        self.settings: EncoderSettings | None = None
        self.reformatter = VideoReformatter()
        self.fps = FALLBACK_FPS
        self.origin: float | None = None  # source time of the first frame = output time 0
        self.last_pts = -1
        self.next_due = 0.0  # the earliest output time of the next kept frame (--fps)

    def run(self, container: Any) -> ExitCode:
        video = next(iter(container.streams.video), None)
        if video is None:
            raise WorkerExit(ExitCode.BAD_STREAM, "the stream has no video track")
        if video.codec_context is None:  # FFmpeg has no decoder for it (a vendor's format)
            raise WorkerExit(ExitCode.BAD_STREAM, "the video track's codec cannot be decoded")
        audio = next(iter(container.streams.audio), None) if self.options.audio == "aac" else None
        context = video.codec_context
        # RTSP hands a multi-slice picture over in pieces: without CHUNKS the decoder makes a
        # half-grey frame of each. One thread: slice threading did the same (NOTES-video.md).
        context.flags2 |= Flags2.chunks
        context.thread_count = 1
        rate = video.average_rate or video.guessed_rate
        source_fps = round(float(rate)) if rate else FALLBACK_FPS
        self.fps = max(1, min(self.options.fps or source_fps, source_fps))
        log.info("playing: video %s, audio %s", context.name, _codec(audio))
        started = False
        for packet in container.demux([s for s in (video, audio) if s is not None]):
            if self.stop.is_set():
                return ExitCode.OK
            if packet.stream is video:
                # Joining mid-GOP, pictures before the first keyframe decode only to garbage.
                started = started or packet.is_keyframe
                if started and packet.size:
                    self._video(packet, video, audio)
            elif self.audio_out is not None and packet.size:
                self._audio(packet, audio)
        raise WorkerExit(ExitCode.STREAM_ENDED, "the stream ended")

    def _video(self, packet: Any, video: Any, audio: Any) -> None:
        for frame in _decode(video, packet):
            if frame.time is None:
                continue
            if self.output is None:
                self._open_output(frame, audio)
            pts = self._video_pts(frame.time)
            settings = self.settings
            if pts is None or settings is None:
                continue
            size = settings.width, settings.height
            out = self.reformatter.reformat(frame, *size, format=settings.pix_fmt)
            out.pts, out.time_base = pts, VIDEO_TIME_BASE
            # A source keyframe would force one here too; the 1 s GOP is ours to keep.
            out.pict_type = PictureType.NONE
            packets = self.video_out.encode(out)
            for encoded in packets:
                # The muxer needs it to close a fragment before the next frame is known.
                encoded.duration = round(VIDEO_TIME_BASE.denominator / self.fps)
            if self.audio_out is not None:
                packets += self.audio_out.keep_up(pts / VIDEO_TIME_BASE.denominator)
            self.output.mux(packets)

    def _video_pts(self, time: float) -> int | None:
        """Output pts of a source time: 0 at the first frame, always increasing; None = drop."""
        if self.origin is None:
            self.origin = time
        clock = VIDEO_TIME_BASE.denominator
        elapsed = time - self.origin
        if elapsed + 0.5 / self.fps < self.next_due:
            return None  # over --fps
        pts = round(elapsed * clock)
        if self.last_pts >= 0 and not 0 < pts - self.last_pts <= MAX_PTS_STEP_S * clock:
            # The camera's clock jumped (reset, wrap): go on one frame later from here.
            pts = self.last_pts + round(clock / self.fps)
            self.origin = time - pts / clock
            elapsed = pts / clock
        self.next_due = max(self.next_due + 1 / self.fps, elapsed)
        self.last_pts = pts
        return pts

    def _open_output(self, frame: Any, audio: Any) -> None:
        options = self.options
        bounds = options.max_width, options.max_height
        width, height = output_size(frame.width, frame.height, *bounds)
        settings = encoder_settings(options.preset, width=width, height=height, fps=self.fps)
        output = av.open(StdoutSink(), "w", format="mp4", options=dict(FMP4_OPTIONS))
        encoder_options = dict(settings.options)
        stream: Any = output.add_stream(settings.encoder, rate=self.fps, options=encoder_options)
        stream.width, stream.height, stream.pix_fmt = width, height, settings.pix_fmt
        stream.codec_context.time_base = VIDEO_TIME_BASE
        if audio is not None:
            self.audio_out = AudioTrack(output, audio.codec_context)
        self.output, self.video_out, self.settings = output, stream, settings
        log.info(
            "encoding %dx%d -> %dx%d at %d fps with %s (cap %d kbit/s), audio %s",
            frame.width, frame.height, width, height, self.fps, settings.encoder,
            settings.max_kbps, "aac" if audio is not None else None,
        )  # fmt: skip

    def _audio(self, packet: Any, audio: Any) -> None:
        assert self.origin is not None and self.audio_out is not None
        packets = []
        for frame in _decode(audio, packet):
            if frame.time is not None and frame.time >= self.origin:
                packets += self.audio_out.add(frame, frame.time - self.origin)
        self.output.mux(packets)


def _decode(stream: Any, packet: Any) -> list[Any]:
    try:
        return list(stream.codec_context.decode(packet))
    except av.error.InvalidDataError as exc:  # one broken packet is not the end
        log.warning("undecodable %s packet: %s", stream.type, _describe(exc))
        return []


def _codec(stream: Any) -> str | None:
    return None if stream is None else str(stream.codec_context.name)


class StopSignal:
    """The first reason to stop wins: a signal, stdin's end, the parent's death, the pipeline."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.code = ExitCode.OK
        self.reason = ""
        self.running = False  # once the pipeline runs, a signal is only noted (see on_signal)
        self.signalled: int | None = None
        self._lock = threading.Lock()

    def set(self, code: ExitCode, reason: str) -> None:
        with self._lock:
            if not self.event.is_set():
                self.code, self.reason = code, reason
                self.event.set()

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Notes the signal and takes no lock. The handler runs in the main thread between two
        of its bytecodes, and the gateway's death sends SIGTERM (PDEATHSIG) just as that thread
        sees the parent gone and calls :meth:`set`: taking this object's lock, or the event's,
        a second time there deadlocked the worker for good (a test saw it outlive the gateway,
        all threads waiting on a futex). The main loop turns the note into :meth:`set`."""
        self.signalled = signum
        if not self.running:  # still reading stdin or checking the encoder: leave at once
            raise SystemExit(ExitCode.OK)

    def check(self, parent: int) -> None:
        """The main loop's poll: a signal noted, or the parent gone (re-parented)."""
        if self.signalled is not None:
            self.set(ExitCode.OK, f"signal {signal.Signals(self.signalled).name}")
        elif os.getppid() != parent:
            self.set(ExitCode.OK, "parent process gone")


def run_pipeline(url: str, options: Options, stop: StopSignal) -> None:
    code, reason = ExitCode.INTERNAL, "pipeline ended"
    try:
        check_network(url, options.networks)
        container = open_input(url, options.timeout)
        try:
            code = Transcoder(options, stop.event).run(container)
            reason = "stopped"
        finally:
            container.close()
    except WorkerExit as exc:
        code, reason = exc.code, str(exc)
    except BrokenPipeError:
        code, reason = ExitCode.OK, "stdout closed"
    except (av.error.ExitError, TimeoutError, EOFError) as exc:  # the read timeout fired
        code, reason = ExitCode.STREAM_ENDED, f"the stream stalled: {_describe(exc)}"
    except Exception as exc:
        log.exception("transcoding failed")
        code, reason = ExitCode.INTERNAL, _describe(exc)
    stop.set(code, reason)


def watch_stdin(stop: StopSignal) -> None:
    while os.read(0, 4096):  # fd 0 itself: the buffered reader may hold the rest of a line
        pass
    stop.set(ExitCode.OK, "stdin closed")


class ScrubbingFormatter(logging.Formatter):
    """One line per event, the camera's password masked wherever it appears."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.secrets: tuple[str, ...] = ()

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record), self.secrets).replace("\n", " | ")


def setup_logging() -> ScrubbingFormatter:
    formatter = ScrubbingFormatter()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # FFmpeg's own errors (e.g. the RTSP reply) through Python logging, hence scrubbed. Only
    # errors: every message takes the GIL from FFmpeg's threads.
    av.logging.set_level(av.logging.ERROR)
    return formatter


def main(argv: Sequence[str] | None = None) -> int:
    parent = os.getppid()  # before anything slow: the parent may die while we start
    options = parse_args(argv)
    formatter = setup_logging()
    stop = StopSignal()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop.on_signal)
    url = sys.stdin.buffer.readline().decode("utf-8", "replace").strip()
    formatter.secrets = url_secrets(url)
    try:
        if not url:
            raise WorkerExit(ExitCode.USAGE, "no stream URL on stdin")
        check_encoder(options.preset)
    except WorkerExit as exc:
        stop.set(exc.code, str(exc))
    else:
        stop.running = True
        threading.Thread(target=watch_stdin, args=(stop,), name="stdin", daemon=True).start()
        pipeline = threading.Thread(
            target=run_pipeline, args=(url, options, stop), name="pipeline", daemon=True
        )
        pipeline.start()
        while not stop.event.wait(PARENT_POLL_S):
            stop.check(parent)
        pipeline.join(STOP_GRACE_S)
    level = logging.INFO if stop.code == ExitCode.OK else logging.ERROR
    log.log(level, "exit %d (%s): %s", stop.code, stop.code.name.lower(), stop.reason)
    return stop.code


if __name__ == "__main__":
    exit_code = main()
    sys.stderr.flush()
    # Not sys.exit: the pipeline thread may sit in an FFmpeg read for up to its timeout, and
    # interpreter shutdown would wait on it or crash it. Nothing is left to flush: stdout is
    # written unbuffered, and a live stream has no trailer worth writing.
    os._exit(exit_code)
