"""Excel and CSV files sent to an upload source: a preview that writes nothing, then an import
that stores the good rows and lists each bad one by its row and column; the unit scope holds;
a file that is not what it claims, or too large, gets a clear error."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.models import SourceRun
from dieuhanh.datahub.standins import documents_upload_source
from dieuhanh.indicators.catalog.models import DataElement, DataValue
from tests.conftest import LOC_THANH, LONG_THANH

Auth = Callable[[str], dict[str, str]]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(rows: list[list[Any]], title: str | None = "BÁO CÁO VĂN BẢN ĐẾN") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    if title:
        sheet.append([title])  # a title above the header, as units' forms have
    sheet.append(["MÃ ĐƠN VỊ", "tháng", "Số  văn bản đến", "Ghi chú"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# The month open for entry whenever the tests run (a past month closes 15 days after it ends).
MONTH = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y%m")
GOOD_AND_TWO_BAD = [
    [LOC_THANH, MONTH, "1.234", "đủ"],
    [LONG_THANH, MONTH, "87", None],
    ["25195", MONTH, "mười hai", None],  # not a number
    ["99999", MONTH, "5", None],  # no such unit
    ["25222", MONTH, "40", None],
]


@pytest.fixture
def upload_source(hub_client: TestClient, hub_auth: Auth) -> str:
    created = hub_client.post(
        "/api/v1/sources", json=documents_upload_source(), headers=hub_auth("admin")
    )
    assert created.status_code == 201, created.text
    return "/api/v1/sources/docs_incoming_upload/upload"


def send(
    client: TestClient, url: str, headers: dict[str, str], data: bytes, name: str, dry_run: bool
) -> Any:
    return client.post(
        url,
        files={"file": (name, data, XLSX)},
        data={"dry_run": "true" if dry_run else "false"},
        headers=headers,
    )


def stored(runtime: Runtime) -> dict[tuple[str, str], str]:
    with runtime.sessions() as session:
        element = session.scalars(
            select(DataElement).where(DataElement.code == "DOCS_INCOMING")
        ).one()
        values = session.scalars(select(DataValue).where(DataValue.element_id == element.id))
        from dieuhanh.units.models import Unit

        codes = {u.id: u.code for u in session.scalars(select(Unit))}
        return {(codes[v.unit_id], v.period_code): v.value for v in values}


def test_preview_then_import_lists_the_two_bad_rows(
    hub: Runtime, hub_client: TestClient, hub_auth: Auth, upload_source: str
) -> None:
    data = workbook(GOOD_AND_TWO_BAD)
    preview = send(hub_client, upload_source, hub_auth("admin"), data, "bao-cao.xlsx", True)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert (body["fetched"], body["new"], body["rejected"]) == (5, 3, 2), body["problems"]
    assert sorted((p["record"], p["field"]) for p in body["problems"]) == [
        (5, "value"),
        (6, "Mã đơn vị"),
    ]
    assert [row["row"] for row in body["rows"]] == [3, 4, 5, 6, 7]
    assert stored(hub) == {}  # a preview writes nothing
    with hub.sessions() as session:
        assert session.scalars(select(SourceRun)).all() == []

    result = send(hub_client, upload_source, hub_auth("admin"), data, "bao-cao.xlsx", False)
    assert result.status_code == 200, result.text
    outcome = result.json()
    assert (outcome["status"], outcome["new"], outcome["rejected"]) == ("succeeded", 3, 2)
    messages = {p["record"]: p["message"] for p in outcome["problems"]}
    assert "no unit matches '99999'" in messages[6]
    assert "is not a whole number" in messages[5]
    assert stored(hub) == {
        (LOC_THANH, MONTH): "1234",
        (LONG_THANH, MONTH): "87",
        ("25222", MONTH): "40",
    }
    again = send(hub_client, upload_source, hub_auth("admin"), data, "bao-cao.xlsx", False)
    assert (again.json()["new"], again.json()["unchanged"]) == (0, 3)
    with hub.sessions() as session:
        runs = session.scalars(select(SourceRun).order_by(SourceRun.id)).all()
    assert [(r.trigger, r.started_by) for r in runs] == [("upload", "admin")] * 2


def test_a_commune_uploads_only_its_own_rows(
    hub: Runtime, hub_client: TestClient, hub_auth: Auth, upload_source: str
) -> None:
    data = workbook([[LOC_THANH, MONTH, "12", None], [LONG_THANH, MONTH, "7", None]])
    result = send(hub_client, upload_source, hub_auth("commune"), data, "x.xlsx", False).json()
    assert (result["new"], result["rejected"]) == (1, 1)
    assert result["problems"][0]["record"] == 4
    assert stored(hub) == {(LOC_THANH, MONTH): "12"}
    viewer = send(hub_client, upload_source, hub_auth("viewer"), data, "x.xlsx", False)
    assert viewer.status_code == 403


def test_a_csv_named_xlsx_is_told_what_it_is(
    hub: Runtime, hub_client: TestClient, hub_auth: Auth, upload_source: str
) -> None:
    csv = f"Mã đơn vị,Tháng,Số văn bản đến\n{LOC_THANH},{MONTH},9\n".encode()
    preview = send(hub_client, upload_source, hub_auth("admin"), csv, "that-la-csv.xlsx", True)
    assert preview.status_code == 422
    assert (
        "named .xlsx but not an Excel workbook (it looks like text, e.g. CSV)"
        in (preview.json()["error"]["message"])
    )
    result = send(hub_client, upload_source, hub_auth("admin"), csv, "that-la-csv.csv", False)
    assert result.json()["new"] == 1, result.text


def test_a_file_without_the_template_columns_is_refused_by_name(
    hub_client: TestClient, hub_auth: Auth, upload_source: str
) -> None:
    csv = "Đơn vị,Giá trị\nLộc Thạnh,3\n".encode()
    preview = send(hub_client, upload_source, hub_auth("admin"), csv, "sai-mau.csv", True)
    assert preview.status_code == 422
    assert (
        "missing column(s) ma_don_vi, thang, so_van_ban_den" in preview.json()["error"]["message"]
    )
    result = send(hub_client, upload_source, hub_auth("admin"), csv, "sai-mau.csv", False).json()
    assert result["status"] == "failed"
    assert "missing column(s)" in result["error"]


def test_a_file_over_the_limit_is_refused_before_it_is_read(
    hub_client: TestClient, hub_auth: Auth, upload_source: str
) -> None:
    big = b"0" * (50 * 1024 * 1024 + 1)
    response = send(hub_client, upload_source, hub_auth("admin"), big, "lon.csv", True)
    assert response.status_code == 413


# --- a workbook read as it is stored ------------------------------------------------------------


def upload_config(max_rows: int) -> dict[str, Any]:
    return dict(documents_upload_source()["config"], max_rows=max_rows)


def fetch_pages(config: dict[str, Any], data: bytes, name: str = "bao-cao.xlsx") -> Any:
    from dieuhanh.datahub.connectors import FetchContext, Upload
    from dieuhanh.datahub.connectors.upload import UploadConnector

    context = FetchContext(settings=None, policy=None, upload=Upload(data, name))  # type: ignore[arg-type]
    return UploadConnector().fetch(config, context)


def generated_rows(count: int) -> bytes:
    """A real workbook of ``count`` report rows under a title and a header, made fast (raw
    sheet XML, as tests/test_xlsx.py makes large files)."""
    from tests.test_xlsx import generated_workbook

    def rows() -> Any:
        number = 0
        while True:
            number += 1
            yield [LOC_THANH, MONTH, str(number)]

    return generated_workbook(["Mã đơn vị", "Tháng", "Số văn bản đến"], count, rows())


def test_a_workbook_is_read_a_page_at_a_time(monkeypatch) -> None:
    # The connector hands the run a page while the rest of the sheet is still unread: memory
    # holds a page of rows, not the file (bench/datahub_upload.py: +22 MB for 100,000 rows).
    import dieuhanh.datahub.connectors.upload as upload_module
    from dieuhanh.core import xlsx

    monkeypatch.setattr(upload_module, "ROWS_PER_PAGE", 10)
    read = 0
    real = xlsx.read_rows

    def counting(data: bytes, filename: str, limits: xlsx.Limits = xlsx.DEFAULT_LIMITS) -> Any:
        nonlocal read
        for row in real(data, filename, limits):
            read += 1
            yield row

    monkeypatch.setattr(xlsx, "read_rows", counting)
    pages = fetch_pages(upload_config(1000), generated_rows(95))
    first = next(pages)
    assert len(first.records) == 10 and first.body is not None
    assert read <= 12  # the header, the page's ten rows, and the one read to end the page
    rest = list(pages)
    assert [len(page.records) for page in rest] == [10] * 8 + [5]
    assert all(page.body is None for page in rest)  # the file is kept once, with page one
    assert [r["so_van_ban_den"] for r in rest[-1].records] == ["91", "92", "93", "94", "95"]


def test_the_sources_row_limit_not_the_kernels_default_applies() -> None:
    # core.xlsx refuses sheets over 50,000 rows unless told otherwise; an upload source says
    # how many it accepts (config.max_rows), and a 100,000-row report is a normal file.
    pages = fetch_pages(upload_config(60_000), generated_rows(50_010))
    assert sum(len(page.records) for page in pages) == 50_010


def test_a_workbook_over_the_sources_limit_is_refused_before_a_row_is_read() -> None:
    from dieuhanh.datahub.connectors import SourceFailure

    with pytest.raises(SourceFailure, match=r"30 rows, more than the 25 this source accepts"):
        next(fetch_pages(upload_config(25), generated_rows(30)))
    # … and within it, read whole.
    assert sum(len(p.records) for p in fetch_pages(upload_config(30), generated_rows(30))) == 30
