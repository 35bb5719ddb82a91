"""What a live camera shows: a coloured background, a box moving with time, the wall clock as code.

Every frame is drawn into one persistent set of YUV 4:2:0 planes, patching only what changed:
the box's old and new places and the clock cells whose bit flipped. Drawing then costs a few
hundred slice assignments a frame (no numpy: it is not a dependency of the product).

The box moves with the capture time, not with a frame count, so two probes seconds apart never
see it in the same place, even across encoder restarts; the clock code changes every frame.
"""

from __future__ import annotations

from av.video.frame import VideoFrame

from dieuhanh.simulator.clock_code import ClockPainter, band_height
from dieuhanh.simulator.pictures import BOX_LUMA, BOX_U, BOX_V, NEUTRAL_CHROMA, pad_rows, textured

# Round trips of the box across and down, in seconds; not multiples of each other, so its path
# does not repeat every few seconds.
PERIOD_X, PERIOD_Y = 6.0, 3.7
MIN_BOX = 16


def box_size(width: int, height: int) -> int:
    """Side of the moving box; it lives below the clock code."""
    return max(MIN_BOX, ((height - _free_top(width)) // 4) & ~1)


def fits(width: int, height: int) -> bool:
    """Whether the clock code and the box both fit in a ``width`` x ``height`` picture."""
    return height - _free_top(width) >= box_size(width, height)


class LivePainter:
    """Paints frame after frame of one live picture; not thread-safe (one encoder thread)."""

    def __init__(self, width: int, height: int) -> None:
        if not fits(width, height):
            raise ValueError(f"{width}x{height} has no room below the clock code for a picture")
        self.width, self.height = width, height
        self.box = box_size(width, height)
        self._top = _free_top(width)
        layout = VideoFrame(width, height, "yuv420p")  # FFmpeg's row alignment for this size
        self._strides = tuple(plane.line_size for plane in layout.planes)
        self._background = self._build_background()
        self._planes = [bytearray(plane) for plane in self._background]
        self._clock = ClockPainter(width, self._strides[0])
        self._box_at: tuple[int, int] | None = None

    def paint(self, millis: int, seconds: float) -> VideoFrame:
        """The picture captured at Unix time ``millis`` (ms), ``seconds`` on a steady clock."""
        self._move_box(self._box_position(seconds))
        self._clock.draw(self._planes[0], millis)
        frame = VideoFrame(self.width, self.height, "yuv420p")
        for plane, data in zip(frame.planes, self._planes, strict=True):
            plane.update(bytes(data))  # PyAV types it as bytes; copying 0.3 MB takes ~30 µs
        return frame

    def _build_background(self) -> tuple[bytes, bytes, bytes]:
        planes = textured(self.width, self.height)
        chroma_width = self.width // 2
        # Neutral chroma under the code, so its cells are plain black and white, as in
        # gst_server.py's /clock picture.
        neutral = bytes([NEUTRAL_CHROMA]) * (chroma_width * self._top // 2)
        u = neutral + planes.u[len(neutral) :]
        v = neutral + planes.v[len(neutral) :]
        widths = (self.width, chroma_width, chroma_width)
        return tuple(  # type: ignore[return-value]
            pad_rows(data, width, stride)
            for data, width, stride in zip((planes.y, u, v), widths, self._strides, strict=True)
        )

    def _box_position(self, seconds: float) -> tuple[int, int]:
        left = int(_triangle(seconds / PERIOD_X) * (self.width - self.box)) & ~1
        room = self.height - self._top - self.box
        top = self._top + (int(_triangle(seconds / PERIOD_Y) * room) & ~1)
        return left, top

    def _move_box(self, position: tuple[int, int]) -> None:
        if position == self._box_at:
            return
        if self._box_at is not None:
            self._restore(*self._box_at)
        self._fill(*position)
        self._box_at = position

    def _fill(self, left: int, top: int) -> None:
        for index, value in enumerate((BOX_LUMA, BOX_U, BOX_V)):
            shift = 1 if index else 0
            run = bytes([value]) * (self.box >> shift)
            for start in self._row_starts(index, left >> shift, top >> shift):
                self._planes[index][start : start + len(run)] = run

    def _restore(self, left: int, top: int) -> None:
        for index, background in enumerate(self._background):
            shift = 1 if index else 0
            length = self.box >> shift
            for start in self._row_starts(index, left >> shift, top >> shift):
                self._planes[index][start : start + length] = background[start : start + length]

    def _row_starts(self, index: int, left: int, top: int) -> range:
        stride = self._strides[index]
        rows = self.box >> (1 if index else 0)
        return range(top * stride + left, (top + rows) * stride + left, stride)


def _free_top(width: int) -> int:
    """First row below the clock code, even so that chroma rows line up."""
    return (band_height(width) + 1) & ~1


def _triangle(phase: float) -> float:
    """0 → 1 → 0 over each unit of ``phase``."""
    fraction = phase % 1.0
    return 2 * fraction if fraction < 0.5 else 2 - 2 * fraction
