"""The wall-clock time as a picture code: drawn into live frames, read back from decoded ones.

The layout is that of ``/clock`` in ``tests/cameras/gst_server.py`` (which runs under Debian's
Python, cannot import this package and so keeps its own copy of the drawing): square cells of
``width // 16`` pixels, 16 to a row from the top-left corner, video-range white (1) or black (0);
48 bits of Unix time in milliseconds, most significant first, fill three rows, and a fourth row
``1010…`` tells a reader that the code is there. A binary code rather than digits: a test or a
browser reads it back without OCR, and H.264 at any sane quality keeps 20-pixel cells intact.

For widths that are a multiple of 16 (every usual camera size) cell edges are exactly
gst_server.py's; other widths spread the cells over the whole width (``col * width // 16``), so
that the reader, which samples cell centres at fractions of the width, lands inside every cell.
"""

from __future__ import annotations

from typing import Any

CODE_COLUMNS = 16
TIME_BITS = 48
CODE_ROWS = TIME_BITS // CODE_COLUMNS + 1
SYNC_BITS = (1, 0) * (CODE_COLUMNS // 2)
CODE_BITS = TIME_BITS + CODE_COLUMNS
WHITE, BLACK = 235, 16  # video-range luma
THRESHOLD = 128
MIN_WIDTH = 2 * CODE_COLUMNS  # two-pixel cells: one fewer and 4:2:0 chroma smears them


def band_height(width: int) -> int:
    """Rows of the picture the code covers (its whole width, from the top)."""
    return _edge(CODE_ROWS, width)


def code_bits(millis: int) -> tuple[int, ...]:
    """The 64 cell values for ``millis``: time bits, most significant first, then sync."""
    time_bits = tuple((millis >> (TIME_BITS - 1 - index)) & 1 for index in range(TIME_BITS))
    return time_bits + SYNC_BITS


class ClockPainter:
    """Draws the code into one persistent luma plane, rewriting only the cells that changed.

    At 15 fps the low ten or so bits change each frame and the rest hardly ever: patching those
    cells costs a few hundred slice assignments where redrawing the band would cost thousands.
    """

    def __init__(self, width: int, stride: int) -> None:
        if width < MIN_WIDTH:
            raise ValueError(f"width {width} is too small for the clock code (>= {MIN_WIDTH})")
        self.width, self.stride = width, stride
        self._cells = [_cell(index, width) for index in range(CODE_BITS)]
        self._drawn: list[int | None] = [None] * CODE_BITS

    def draw(self, luma: bytearray, millis: int) -> None:
        for index, bit in enumerate(code_bits(millis)):
            if self._drawn[index] == bit:
                continue
            left, top, right, bottom = self._cells[index]
            run = bytes([WHITE if bit else BLACK]) * (right - left)
            for row in range(top, bottom):
                start = row * self.stride + left
                luma[start : start + len(run)] = run
            self._drawn[index] = bit


def read_clock(frame: Any) -> float:
    """The Unix time (seconds) burnt into a decoded frame (a PyAV ``VideoFrame``).

    Raises ValueError when the sync row is missing: the picture carries no code.
    """
    gray = frame.reformat(format="gray")
    plane = gray.planes[0]
    return read_clock_luma(bytes(plane), plane.line_size, gray.width)


def read_clock_luma(luma: bytes, stride: int, width: int) -> float:
    """:func:`read_clock` on a bare luma plane whose rows are ``stride`` bytes apart."""
    cell = width / CODE_COLUMNS

    def bit(index: int) -> int:
        x = int((index % CODE_COLUMNS + 0.5) * cell)
        y = int((index // CODE_COLUMNS + 0.5) * cell)
        return 1 if luma[y * stride + x] >= THRESHOLD else 0

    sync = tuple(bit(TIME_BITS + index) for index in range(CODE_COLUMNS))
    if sync != SYNC_BITS:
        raise ValueError(f"no time code in this picture (sync row {list(sync)})")
    millis = 0
    for index in range(TIME_BITS):
        millis = millis << 1 | bit(index)
    return millis / 1000


def _edge(position: int, width: int) -> int:
    # Equal to position * (width // 16) whenever width is a multiple of 16.
    return position * width // CODE_COLUMNS


def _cell(index: int, width: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of cell ``index``, in pixels."""
    row, column = divmod(index, CODE_COLUMNS)
    return _edge(column, width), _edge(row, width), _edge(column + 1, width), _edge(row + 1, width)
