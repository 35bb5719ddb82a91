"""A live encoder: pictures painted and encoded in real time on a background thread.

Frames are due at ``start + n / fps`` on the monotonic clock, so the rate does not drift; an
encoder that falls behind skips the frames it missed, as an overloaded camera does, instead of
sending a burst. Each frame is split into NAL units and packetized once, here, for every session
of every mount sharing the encoder. Its RTP time is its capture time: 90 kHz ticks of
``time.monotonic()``, the clock asyncio's loop runs on, so senders can relate the two.

Settings follow a real camera's live encoder, not the clips': libx264 ``ultrafast`` with
``zerolatency`` and one thread (several would cut each frame into one slice per core, so the
stream would change with the machine), libx265 ``ultrafast``/``zerolatency`` without a thread
pool (its one frame thread is enough: 640x360@15 costs ~6 % of a core). Neither uses B-frames,
and keyframes come every ``gop`` frames exactly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import av

from dieuhanh.rtsp.nal import (
    VIDEO_CODECS,
    ParameterSets,
    VideoCodec,
    find_parameter_sets,
    is_keyframe,
    split_annexb,
)
from dieuhanh.rtsp.rtp import packetize_h264, packetize_h265
from dieuhanh.simulator.clock_code import MIN_WIDTH
from dieuhanh.simulator.live_picture import LivePainter, fits
from dieuhanh.simulator.rtp import RtpFrame, build_frame
from dieuhanh.simulator.sdp import VIDEO_CLOCK, VIDEO_PT

logger = logging.getLogger(__name__)

LIVE_PRESET = {"preset": "ultrafast", "tune": "zerolatency", "profile": "main"}


@dataclass(frozen=True)
class LiveSpec:
    """What makes one live encoder different from another; mounts with equal specs share one."""

    codec: VideoCodec = "h264"
    width: int = 640
    height: int = 360
    fps: int = 15
    gop: int = 0  # frames between keyframes; 0 means one second (``fps``)
    bitrate_kbps: int = 0  # 0: constant quality (small frames for this plain picture)

    def __post_init__(self) -> None:
        if self.codec not in VIDEO_CODECS:
            raise ValueError(f"codec {self.codec!r} is not one of {', '.join(VIDEO_CODECS)}")
        if not (MIN_WIDTH <= self.width <= 4096 and 16 <= self.height <= 4096):
            raise ValueError(f"live size {self.width}x{self.height} is outside 32..4096 x 16..4096")
        if self.width % 2 or self.height % 2:
            raise ValueError(f"size {self.width}x{self.height} must be even (4:2:0)")
        if not fits(self.width, self.height):
            raise ValueError(
                f"{self.width}x{self.height} is too flat for the clock code (its top quarter of "
                "the width) and a moving box below it; use a taller picture"
            )
        if not 1 <= self.fps <= 120 or self.gop < 0:
            raise ValueError("fps must be 1..120 and gop >= 0")
        if not 0 <= self.bitrate_kbps <= 50_000:
            raise ValueError("bitrate_kbps must be 0..50000")

    @property
    def gop_frames(self) -> int:
        return self.gop or self.fps

    @property
    def key(self) -> str:
        rate = f"-{self.bitrate_kbps}kbps" if self.bitrate_kbps else ""
        return f"{self.codec}-{self.width}x{self.height}-{self.fps}fps-gop{self.gop_frames}{rate}"


@dataclass(frozen=True)
class LiveFrame:
    rtp: RtpFrame  # ``ts_offset`` is the capture time, see :func:`capture_ticks`
    parameter_sets: ParameterSets | None  # on keyframes: what the SDP needs


def capture_ticks(monotonic: float) -> int:
    """A ``time.monotonic()`` instant in 90 kHz RTP ticks."""
    return round(monotonic * VIDEO_CLOCK)


def encoder_options(spec: LiveSpec) -> tuple[str, dict[str, str]]:
    """The FFmpeg encoder name and its options for ``spec``."""
    gop = spec.gop_frames
    common = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"
    rate = spec.bitrate_kbps
    if spec.codec == "h264":
        # CABAC back on: ultrafast turns it off, which makes Constrained Baseline; cameras send
        # Main or High, and the SDP should say so. Constant bitrate as cameras do it: the HRD
        # fills what the plain picture leaves unused, so the stream has a camera's packet rate.
        control = (
            f"bitrate={rate}:vbv-maxrate={rate}:vbv-bufsize={rate}:nal-hrd=cbr" if rate else "qp=26"
        )
        x264 = f"{common}:cabac=1:{control}"
        return "libx264", {**LIVE_PRESET, "threads": "1", "x264-params": x264}
    # open-gop=0: IDR keyframes, where a new viewer can start; info=0: no version SEI.
    control = f"bitrate={rate}:vbv-maxrate={rate}:vbv-bufsize={rate}:hrd=1" if rate else "qp=30"
    x265 = f"{common}:open-gop=0:{control}:pools=none:frame-threads=1:log-level=error:info=0"
    return "libx265", {**LIVE_PRESET, "x265-params": x265}


def open_encoder(spec: LiveSpec) -> av.VideoCodecContext:
    name, options = encoder_options(spec)
    context = av.CodecContext.create(name, "w")
    assert isinstance(context, av.VideoCodecContext)
    context.width, context.height, context.pix_fmt = spec.width, spec.height, "yuv420p"
    context.time_base = Fraction(1, spec.fps)
    context.framerate = Fraction(spec.fps)
    context.gop_size, context.max_b_frames = spec.gop_frames, 0
    context.options = options
    return context


class LiveEncoder:
    """One encoding thread; ``on_frame`` and ``on_error`` are called from that thread."""

    def __init__(
        self,
        spec: LiveSpec,
        on_frame: Callable[[LiveFrame], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        self.spec, self._on_frame, self._on_error = spec, on_frame, on_error
        self._stopping = threading.Event()
        name = f"live-encoder-{spec.key}"
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._packetize = packetize_h264 if spec.codec == "h264" else packetize_h265

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Asks the thread to end; it does within one frame interval (join to wait)."""
        self._stopping.set()

    def _run(self) -> None:
        try:
            self._encode_until_stopped()
        except Exception as exc:  # reported to the source, which answers its clients 503
            logger.exception("live encoder %s failed", self.spec.key)
            self._on_error(exc)

    def _encode_until_stopped(self) -> None:
        started = time.perf_counter()
        context = open_encoder(self.spec)
        painter = LivePainter(self.spec.width, self.spec.height)
        period = 1 / self.spec.fps
        epoch, index = time.monotonic(), 0
        logger.info("live encoder %s started", self.spec.key)
        while True:
            due = epoch + index * period
            if self._stopping.wait(max(0.0, due - time.monotonic())):
                break
            late = int((time.monotonic() - due) / period)
            if late > 0:  # fell behind: skip the frames that are already past, as cameras do
                index += late
                continue
            frame = painter.paint(round(time.time() * 1000), due)
            frame.pts, frame.time_base = index, Fraction(1, self.spec.fps)
            for packet in context.encode(frame):
                self._publish(bytes(packet), epoch + (packet.pts or 0) * period)
            if index == 0:
                elapsed = (time.perf_counter() - started) * 1000
                logger.debug("live encoder %s: first frame after %.0f ms", self.spec.key, elapsed)
            index += 1
        logger.info("live encoder %s stopped", self.spec.key)

    def _publish(self, access_unit: bytes, captured: float) -> None:
        nal_units = split_annexb(access_unit)
        keyframe = is_keyframe(self.spec.codec, nal_units)
        rtp = build_frame(self._packetize(nal_units), VIDEO_PT, capture_ticks(captured), keyframe)
        parameter_sets = find_parameter_sets(self.spec.codec, nal_units) if keyframe else None
        self._on_frame(LiveFrame(rtp, parameter_sets))
