"""What one decoded frame says about a camera: black, or the same as before (frozen).

A frame is reduced to a 32×18 grey thumbnail: enough to tell a black or unchanging picture
from a live one, small enough to keep for every camera (576 bytes) and compare in microseconds.
Real cameras are never pixel-identical from one keyframe to the next (sensor noise, the clock in
the corner), so "frozen" means a difference of almost exactly zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT = 32, 18
FROZEN_MAX_DIFFERENCE = 0.5  # mean absolute difference, 0-255 scale
BLACK_MAX_SPREAD = 48  # a dark scene with a lit window is not a black picture


@dataclass(frozen=True)
class Picture:
    signature: bytes  # WIDTH × HEIGHT grey levels
    luma_mean: float
    luma_spread: int  # brightest minus darkest thumbnail pixel


def picture_of(frame: Any) -> Picture:
    small = frame.reformat(width=WIDTH, height=HEIGHT, format="gray")
    plane = small.planes[0]
    data = bytes(plane)
    rows = [data[row * plane.line_size : row * plane.line_size + WIDTH] for row in range(HEIGHT)]
    signature = b"".join(rows)
    return Picture(
        signature=signature,
        luma_mean=round(sum(signature) / len(signature), 1),
        luma_spread=max(signature) - min(signature),
    )


def is_black(picture: Picture, max_luma: int) -> bool:
    return picture.luma_mean <= max_luma and picture.luma_spread <= BLACK_MAX_SPREAD


def difference(first: bytes, second: bytes) -> float:
    if len(first) != len(second) or not first:
        return 255.0
    return sum(abs(a - b) for a, b in zip(first, second, strict=True)) / len(first)


def same_picture(first: bytes | None, second: bytes | None) -> bool:
    return (
        first is not None
        and second is not None
        and difference(first, second) <= FROZEN_MAX_DIFFERENCE
    )
