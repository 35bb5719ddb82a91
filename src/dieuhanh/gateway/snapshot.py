"""JPEG pictures of cameras, cheap enough to refresh every camera every minute.

Two sources, neither opening the camera again: the monitor's picture check already decodes one
keyframe (``jpeg_from_frame``), and a stream being watched has its last keyframe in the hub's
cache (``jpeg_from_segments`` decodes it from memory, a few milliseconds).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import av
from av.codec.context import Flags2

WIDTH = 480  # enough for lists, map pop-ups and idle grid tiles
QUALITY = 5  # mjpeg qscale: 2 (best) … 31


def jpeg_from_frame(frame: Any, width: int = WIDTH) -> bytes:
    height = max(2, round(frame.height * width / frame.width / 2) * 2)
    small = frame.reformat(width=width, height=height, format="yuvj420p")
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuvj420p"
    encoder.time_base = small.time_base or Fraction(1, 25)
    encoder.options = {"qscale": str(QUALITY)}
    encoder.flags |= av.codec.context.Flags.qscale
    small.pts = None
    packets = encoder.encode(small) + encoder.encode(None)
    return b"".join(bytes(packet) for packet in packets)


def jpeg_from_segments(init: bytes, fragments: Iterable[bytes], width: int = WIDTH) -> bytes | None:
    """The first picture of an fMP4 init segment and fragments (the first one a keyframe)."""
    data = io.BytesIO(init + b"".join(fragments))
    with av.open(data, mode="r", format="mp4") as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        stream.codec_context.flags2 |= Flags2.chunks
        for frame in container.decode(stream):
            return jpeg_from_frame(frame, width)
    return None
