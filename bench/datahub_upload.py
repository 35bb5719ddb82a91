"""An Excel upload of 100,000 rows through the data hub (issue #11: "rows/s for a 100,000-row Excel
file; memory peak for that file (goal: streaming, under 300 MB)").

A ``kind: upload`` source whose rows are data values (unit, month, element, value: the shape of
the units' monthly reports) receives one workbook; the whole run is timed — the file read row
by row, each row mapped and matched to its unit, the values written through the one value path
(``save_values``), the file kept as the run's payload. Beside it, in the same run, the bare
reader of the same file (``core.xlsx.read_rows``: the rows as text, nothing else) is the
baseline. Each upload runs in a fresh process, whose peak resident memory is read from
``/proc`` (VmHWM, reset just before the upload): a file four times smaller is uploaded too,
and the two peaks should be about the same if the rows are streamed.

    .venv/bin/python bench/datahub_upload.py [--rows 100000] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import openpyxl
from sqlalchemy import select
from throwaway import database_url  # bench/throwaway.py, beside this script

from dieuhanh.bootstrap import setup
from dieuhanh.core import xlsx
from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.connectors import Upload
from dieuhanh.datahub.runs import run_source
from dieuhanh.datahub.service import save_source
from dieuhanh.datahub.spec import parse_spec
from dieuhanh.indicators.catalog.models import DataElement, DataValue
from dieuhanh.units.service import children, get_unit
from dieuhanh.units.types import COMMUNE_LEVEL
from indicators import make_runtime, say, status_mb  # bench/indicators.py, beside this script

DATABASE = "dieuhanh_bench_upload"
GOAL_MB = 300
ELEMENTS = 20
SOURCE = {
    "code": "bench_upload",
    "name": "Báo cáo tháng của đơn vị (tệp Excel)",
    "kind": "upload",
    "config": {
        "max_rows": 1_000_000,
        "columns": [
            {"key": "ma_don_vi", "header": "Mã đơn vị", "required": True},
            {"key": "thang", "header": "Tháng", "required": True},
            {"key": "chi_tieu", "header": "Mã chỉ tiêu", "required": True},
            {"key": "gia_tri", "header": "Giá trị", "required": True},
        ],
        "mapping": {
            "rows": {
                "to": "values", "element_field": "chi_tieu", "unit_field": "ma_don_vi",
                "period_field": "thang", "value_field": "gia_tri", "value_format": "vi",
            }
        },
    },
}  # fmt: skip


def prepare(runtime: Runtime) -> list[str]:
    """The elements and the source; the communes' codes."""
    with runtime.sessions() as session:
        set_actor(session, SYSTEM)
        session.add_all(
            DataElement(code=f"BENCH_{n:02d}", name=f"Chỉ tiêu {n}", value_type="integer",
                        aggregation_type="sum", domain="public_services")
            for n in range(ELEMENTS)
        )  # fmt: skip
        save_source(session, parse_spec(SOURCE))
        session.commit()
        province = get_unit(session, runtime.settings.province_code)
        return [unit.code for unit in children(session, province, COMMUNE_LEVEL)]


def workbook(communes: list[str], rows: int, bump: int = 0) -> bytes:
    """A unit report as people send it: a title row, then the header, then ``rows`` rows."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["BÁO CÁO SỐ LIỆU HẰNG THÁNG"])
    sheet.append(["Mã đơn vị", "Tháng", "Mã chỉ tiêu", "Giá trị"])
    made = 0
    month = 0
    while made < rows:
        year, number = 2021 - month // 12, 12 - month % 12
        for unit in communes:
            for element in range(ELEMENTS):
                value = (made * 7919 + bump) % 5000
                sheet.append([unit, f"{year}{number:02d}", f"BENCH_{element:02d}", value])
                made += 1
                if made == rows:
                    break
            if made == rows:
                break
        month += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bare_read(data: bytes, rows: int) -> float:
    limits = xlsx.Limits(max_rows=rows + 10)
    started = time.perf_counter()
    read = sum(1 for _ in xlsx.read_rows(data, "bench.xlsx", limits))
    assert read == rows + 2, read
    return time.perf_counter() - started


def upload_in_child(url: str, folder: str, path: str) -> tuple[float, float, float, int]:
    """(resident MB before, peak MB during, seconds, values stored) of one upload in this
    fresh process."""
    runtime = make_runtime(url, Path(folder))
    try:
        data = Path(path).read_bytes()
        with runtime.sessions() as session:  # the app imported and connected first
            session.execute(select(DataValue.id).limit(1))
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux)
        before = status_mb("VmRSS")
        started = time.perf_counter()
        outcome = run_source(runtime, SOURCE["code"], trigger="upload",
                             upload=Upload(data, "bao-cao-thang.xlsx"))  # fmt: skip
        seconds = time.perf_counter() - started
        assert outcome.status == "succeeded", outcome.error
        assert not outcome.rejected, outcome.problems[:3]
        return before, status_mb("VmHWM"), seconds, outcome.new + outcome.updated
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = database_url(args.backend, folder, DATABASE)
        runtime = make_runtime(url, folder)
        try:
            setup(runtime)
            communes = prepare(runtime)
        finally:
            runtime.close()
        say(f"{args.rows:,}-row workbook into {args.backend}, values through save_values")
        for rows, bump in ((args.rows // 4, 1), (args.rows, 2)):
            data = workbook(communes, rows, bump)
            path = folder / f"upload-{rows}.xlsx"
            path.write_bytes(data)
            bare = bare_read(data, rows)
            with ProcessPoolExecutor(1, mp_context=spawn) as pool:
                before, peak, seconds, stored = pool.submit(
                    upload_in_child, url, str(folder), str(path)
                ).result()
            say(
                f"  {rows:>9,} rows ({len(data) / 2**20:4.1f} MB): bare reader "
                f"{rows / bare:8,.0f} rows/s; upload {rows / seconds:8,.0f} rows/s "
                f"({seconds / bare:.1f}× the reader), {stored:,} values stored; peak "
                f"{peak:,.0f} MB resident, {peak - before:+,.0f} MB over the process before "
                f"the upload (goal under {GOAL_MB} MB: {'met' if peak < GOAL_MB else 'NOT met'})"
            )


if __name__ == "__main__":
    main()
