"""Raw YUV 4:2:0 pictures for the simulated cameras, drawn with byte slices (no numpy).

The background is coloured and textured on purpose: a black test background trips black
detection, and a flat one compresses to keyframes smaller than one RTP packet, which would leave
fragmentation untested. The moving picture carries its frame number as a row of bright and dark
blocks, so every frame differs even where the box happens to stand still.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PictureKind = Literal["moving", "black", "frozen"]
PICTURE_KINDS: tuple[PictureKind, ...] = ("moving", "black", "frozen")

BLACK_LUMA, NEUTRAL_CHROMA = 16, 128  # limited-range black
BOX_LUMA, BOX_U, BOX_V = 220, 90, 200  # a light red box
COUNTER_BITS, COUNTER_BLOCK = 16, 8
TEXTURE_STEP, TEXTURE_DEPTH = 4, 24


@dataclass(frozen=True)
class Planes:
    y: bytes
    u: bytes
    v: bytes


class PictureSource:
    """Draws frame ``index`` of a clip of ``frames`` pictures of one kind."""

    def __init__(self, kind: PictureKind, width: int, height: int, frames: int) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"width and height must be even for 4:2:0, got {width}x{height}")
        self.kind, self.width, self.height, self.frames = kind, width, height, frames
        self.box = max(16, (height // 6) & ~1)
        if kind == "black":
            self._background = _flat(width, height, BLACK_LUMA, NEUTRAL_CHROMA, NEUTRAL_CHROMA)
        else:
            self._background = textured(width, height)

    def picture(self, index: int) -> Planes:
        if self.kind == "black":
            return self._background
        y, u, v = (bytearray(plane) for plane in _as_tuple(self._background))
        if self.kind == "frozen":
            self._draw_box(y, u, v, self.width // 4, self.height // 3)
        else:
            self._draw_box(y, u, v, self._box_x(index), (self.height - self.box) // 2)
            self._draw_counter(y, index)
        return Planes(bytes(y), bytes(u), bytes(v))

    def _box_x(self, index: int) -> int:
        # A triangle wave over the clip: the box returns to its start, so the loop has no jump.
        phase = 2 * index / self.frames
        travel = phase if phase <= 1 else 2 - phase
        return int(travel * (self.width - self.box)) & ~1

    def _draw_box(self, y: bytearray, u: bytearray, v: bytearray, left: int, top: int) -> None:
        size = self.box
        _fill(y, self.width, left, top, size, size, BOX_LUMA)
        _fill(u, self.width // 2, left // 2, top // 2, size // 2, size // 2, BOX_U)
        _fill(v, self.width // 2, left // 2, top // 2, size // 2, size // 2, BOX_V)

    def _draw_counter(self, y: bytearray, index: int) -> None:
        for bit in range(min(COUNTER_BITS, self.width // COUNTER_BLOCK)):
            level = 235 if index >> bit & 1 else BLACK_LUMA
            left = bit * COUNTER_BLOCK
            _fill(y, self.width, left, 0, COUNTER_BLOCK, COUNTER_BLOCK, level)


def _as_tuple(planes: Planes) -> tuple[bytes, bytes, bytes]:
    return planes.y, planes.u, planes.v


def _fill(
    plane: bytearray, stride: int, left: int, top: int, width: int, height: int, value: int
) -> None:
    rows = len(plane) // stride
    right = min(left + width, stride)
    if right <= left:
        return
    run = bytes([value]) * (right - left)
    for row in range(max(top, 0), min(top + height, rows)):
        start = row * stride + left
        plane[start : start + len(run)] = run


def _flat(width: int, height: int, luma: int, u: int, v: int) -> Planes:
    chroma = (width // 2) * (height // 2)
    return Planes(bytes([luma]) * (width * height), bytes([u]) * chroma, bytes([v]) * chroma)


def textured(width: int, height: int) -> Planes:
    """A horizontal luma ramp under a fine checkerboard, on a blue-green tint."""
    ramp = [70 + 90 * x // max(width - 1, 1) for x in range(width)]
    rows = [
        bytes(
            level + (TEXTURE_DEPTH if (x // TEXTURE_STEP + parity) % 2 else 0)
            for x, level in enumerate(ramp)
        )
        for parity in (0, 1)
    ]
    y = b"".join(rows[(row // TEXTURE_STEP) % 2] for row in range(height))
    half_w, half_h = width // 2, height // 2
    u = b"".join(bytes([140 + 30 * row // max(half_h - 1, 1)]) * half_w for row in range(half_h))
    v = bytes([100]) * (half_w * half_h)
    return Planes(y, u, v)


def pad_rows(data: bytes, width: int, line_size: int) -> bytes:
    """``data`` with rows of ``width`` bytes padded to ``line_size``, as FFmpeg lays planes out.

    FFmpeg aligns rows (e.g. 100 px wide rows take 112 bytes); ``Plane.update`` wants that size.
    """
    if line_size == width:
        return data
    padding = bytes(line_size - width)
    return b"".join(data[row : row + width] + padding for row in range(0, len(data), width))
