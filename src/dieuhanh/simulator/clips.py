"""Short looping clips encoded once with PyAV (libx264 / libx265) and cached on disk.

A clip is a whole number of GOPs, so its loop restarts on a keyframe. The encoders run without
B-frames (packets then arrive in presentation order and RTP timestamps only ever grow) and with
a constant quantiser, so identical pictures give identical keyframes: a frozen camera decodes to
exactly the same picture across GOPs and loops, as a frozen real camera does.
"""

from __future__ import annotations

import logging
import math
import os
import struct
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.video.frame import VideoFrame

from dieuhanh.rtsp.nal import (
    VIDEO_CODECS,
    ParameterSets,
    VideoCodec,
    find_parameter_sets,
    is_keyframe,
    split_annexb,
)
from dieuhanh.simulator.pictures import PICTURE_KINDS, PictureKind, PictureSource, pad_rows

logger = logging.getLogger(__name__)

CACHE_FORMAT = b"DHCLIP1\n"  # bump when the encoder settings or the pictures change
LENGTH = struct.Struct(">I")


@dataclass(frozen=True)
class ClipSpec:
    """Everything that makes one clip different from another; also its cache key."""

    codec: VideoCodec = "h264"
    kind: PictureKind = "moving"
    width: int = 640
    height: int = 360
    fps: int = 15
    gop: int = 0  # frames between keyframes; 0 means one second (``fps``)
    duration: float = 2.0  # seconds, rounded up to whole GOPs

    def __post_init__(self) -> None:
        if self.codec not in VIDEO_CODECS:
            raise ValueError(f"codec {self.codec!r} is not one of {', '.join(VIDEO_CODECS)}")
        if self.kind not in PICTURE_KINDS:
            raise ValueError(f"kind {self.kind!r} is not one of {', '.join(PICTURE_KINDS)}")
        if not (16 <= self.width <= 4096 and 16 <= self.height <= 4096):
            raise ValueError(f"size {self.width}x{self.height} is outside 16..4096")
        if self.width % 2 or self.height % 2:
            raise ValueError(f"size {self.width}x{self.height} must be even (4:2:0)")
        if not 1 <= self.fps <= 120 or self.gop < 0 or self.duration <= 0:
            raise ValueError("fps must be 1..120, gop >= 0 and duration > 0")

    @property
    def gop_frames(self) -> int:
        return self.gop or self.fps

    @property
    def frame_count(self) -> int:
        gops = max(1, math.ceil(round(self.duration * self.fps) / self.gop_frames))
        return gops * self.gop_frames

    @property
    def cache_key(self) -> str:
        return (
            f"{self.codec}-{self.kind}-{self.width}x{self.height}-{self.fps}fps"
            f"-gop{self.gop_frames}-{self.frame_count}f"
        )


@dataclass(frozen=True)
class ClipFrame:
    nal_units: tuple[bytes, ...]
    keyframe: bool


@dataclass(frozen=True)
class Clip:
    spec: ClipSpec
    frames: tuple[ClipFrame, ...]
    parameter_sets: ParameterSets


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dieuhanh" / "clips"


def load_clip(spec: ClipSpec, cache_dir: Path | None = None) -> Clip:
    """The clip for ``spec``: read from the cache, or encoded and then stored there."""
    path = (cache_dir or default_cache_dir()) / f"{spec.cache_key}.bin"
    units = _read_cache(path)
    if units is None:
        units = encode_access_units(spec)
        _write_cache(path, units)
    return _clip_from_access_units(spec, units)


def encode_access_units(spec: ClipSpec) -> list[bytes]:
    """One Annex-B access unit per frame, in presentation order."""
    started = time.perf_counter()
    context = _encoder(spec)
    source = PictureSource(spec.kind, spec.width, spec.height, spec.frame_count)
    packets = []
    for index in range(spec.frame_count):
        packets.extend(context.encode(_video_frame(source, index, spec.fps)))
    packets.extend(context.encode(None))
    units = [bytes(packet) for packet in packets]
    if len(units) != spec.frame_count:
        raise RuntimeError(f"{spec.cache_key}: encoder gave {len(units)} packets")
    elapsed = (time.perf_counter() - started) * 1000
    logger.info(
        "encoded clip %s in %.0f ms (%d bytes)", spec.cache_key, elapsed, sum(map(len, units))
    )
    return units


def _encoder(spec: ClipSpec) -> av.VideoCodecContext:
    gop = spec.gop_frames
    common = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"
    if spec.codec == "h264":
        name, options = "libx264", {"preset": "veryfast", "x264-params": f"{common}:qp=26"}
        options["profile"] = "main"
    else:
        # open-gop=0: keyframes are IDR, not CRA, so a new viewer can start on any of them.
        x265 = f"{common}:open-gop=0:qp=30:log-level=error:info=0"
        name, options = "libx265", {"preset": "ultrafast", "x265-params": x265, "profile": "main"}
    context = av.CodecContext.create(name, "w")
    assert isinstance(context, av.VideoCodecContext)
    context.width, context.height, context.pix_fmt = spec.width, spec.height, "yuv420p"
    context.time_base = Fraction(1, spec.fps)
    context.framerate = Fraction(spec.fps)
    context.gop_size, context.max_b_frames = gop, 0
    context.options = options
    return context


def _video_frame(source: PictureSource, index: int, fps: int) -> VideoFrame:
    planes = source.picture(index)
    frame = VideoFrame(source.width, source.height, "yuv420p")
    widths = (source.width, source.width // 2, source.width // 2)
    for plane, data, width in zip(
        frame.planes, (planes.y, planes.u, planes.v), widths, strict=True
    ):
        plane.update(pad_rows(data, width, plane.line_size))
    frame.pts, frame.time_base = index, Fraction(1, fps)
    return frame


def _clip_from_access_units(spec: ClipSpec, units: list[bytes]) -> Clip:
    frames = []
    for unit in units:
        nals = tuple(split_annexb(unit))
        frames.append(ClipFrame(nal_units=nals, keyframe=is_keyframe(spec.codec, nals)))
    if not frames or not frames[0].keyframe:
        raise RuntimeError(f"{spec.cache_key}: the clip does not start with a keyframe")
    return Clip(spec, tuple(frames), find_parameter_sets(spec.codec, frames[0].nal_units))


def _read_cache(path: Path) -> list[bytes] | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if not data.startswith(CACHE_FORMAT):
        return None
    units, offset = [], len(CACHE_FORMAT)
    while offset + LENGTH.size <= len(data):
        (size,) = LENGTH.unpack_from(data, offset)
        offset += LENGTH.size
        units.append(data[offset : offset + size])
        offset += size
    return units if offset == len(data) else None


def _write_cache(path: Path, units: list[bytes]) -> None:
    # Written aside then renamed: parallel test workers may encode the same clip at once.
    path.parent.mkdir(parents=True, exist_ok=True)
    body = b"".join(LENGTH.pack(len(unit)) + unit for unit in units)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
        handle.write(CACHE_FORMAT + body)
    os.replace(handle.name, path)
