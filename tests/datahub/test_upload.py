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
