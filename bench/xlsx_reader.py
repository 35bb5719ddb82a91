"""Rows per second and peak memory of reading a 100,000-row .xlsx through DieuHanh's bounded reader
(:mod:`dieuhanh.core.xlsx`, openpyxl's streaming read-only mode) against openpyxl's full load, and
how soon a file with wrong columns or too many rows is refused (issue #10).

Time is measured on a run without tracing; memory is the peak of Python allocations
(tracemalloc) on a second run.

    .venv/bin/python bench/xlsx_reader.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import io
import time
import tracemalloc
from collections.abc import Callable

import openpyxl

from dieuhanh.core import xlsx
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.tabular import read_table


def workbook(rows: int, header: list[str]) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for number in range(rows):
        sheet.append([f"C{number:06d}", f"Camera {number}", "Xã Lộc Thạnh", number * 1.5])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def measure(read: Callable[[], int]) -> tuple[int, float, float]:
    """(rows read, seconds, peak MB)."""
    started = time.perf_counter()
    rows = read()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    read()
    peak = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
    tracemalloc.stop()
    return rows, seconds, peak


def bounded(data: bytes, rows: int) -> Callable[[], int]:
    limits = xlsx.Limits(max_rows=rows + 1, max_unpacked_bytes=500 * 1024 * 1024)
    return lambda: sum(1 for _ in xlsx.read_rows(data, "bench.xlsx", limits))


def full_load(data: bytes) -> Callable[[], int]:
    def read() -> int:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
        return sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))

    return read


def refused(data: bytes) -> Callable[[], int]:
    def read() -> int:
        try:
            read_table(data, "bench.xlsx", required=("code", "name"))
        except InvalidInput as exc:
            return len(exc.message)
        raise AssertionError("the file was not refused")

    return read


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    good = workbook(rows, ["code", "name", "unit", "value"])
    print(f"{rows:,}-row workbook: {len(good) / 1024:,.0f} KB")
    results = {}
    for name, read in (("bounded reader", bounded(good, rows)), ("openpyxl full", full_load(good))):
        count, seconds, peak = measure(read)
        results[name] = (seconds, peak)
        print(f"  {name:15} {count:>8,} rows  {count / seconds:>9,.0f} rows/s  peak {peak:7.1f} MB")
    (fast, small), (slow, big) = results["bounded reader"], results["openpyxl full"]
    print(f"  ratio: {slow / fast:.1f}x faster, {big / small:.1f}x less memory")
    wrong = workbook(rows, ["ma_so", "ten_goi", "don_vi", "gia_tri"])
    for label, data in (("wrong columns", wrong), (f"{rows:,} rows", good)):
        _, seconds, peak = measure(refused(data))
        print(f"  {label:15} refused in {seconds:.2f} s, peak {peak:.1f} MB")


if __name__ == "__main__":
    main()
