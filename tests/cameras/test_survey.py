"""The camera survey: spreadsheet and CSV uploads with row errors and a preview, and the form."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dieuhanh.cameras.models import Camera, CameraDeclaration
from dieuhanh.cameras.survey import TEMPLATE_HEADERS, template_csv
from dieuhanh.core.runtime import Runtime
from tests.conftest import LOC_THANH, LONG_THANH

# The appendix's own wording, as units copy it into their sheets.
APPENDIX_HEADERS = [
    "STT", "Loại Camera (Analog/IP/...)", "Model thiết bị", "Hãng sản xuất", "Số lượng Camera",
    "Vị trí Camera",
    "Hệ thống camera sử dụng đầu ghi hay sử dụng hệ thống quản lý camera chuyên dụng (VMS)?",
    "Thông tin chi tiết thiết bị đầu ghi/VMS (hãng sản xuất, mã thiết bị)",
    "Thông tin luồng Camera kết nối ra Internet (Có/Không có)",
    "Mô hình kết nối Camera", "Dải địa chỉ IP hệ thống Camera",
    "Hệ thống đầu ghi/VMS server có được quản lý tập trung hoặc truy cập được từ mạng của "
    "Văn phòng UBND (mạng CPNet)",
    "Đường truyền từ Camera về đầu ghi/VMS là loại đường truyền gì", "Tốc độ đường truyền",
    "Đường dẫn luồng chính",
]  # fmt: skip
GOOD = [
    "1", "IP", "DS-2CD1043G0-I", "Hikvision", "4", "Sảnh một cửa", "Đầu ghi", "Hikvision DS-7608NI",
    "Có", "camera → switch → router → Internet", "192.168.1.0/24", "Không", "Internet cáp quang",
    "100 Mbps", "rtsp://admin:pw12345@192.168.1.64:554/ch1",
]  # fmt: skip


def workbook(rows: list[list[str]], title: bool = True) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    if title:
        sheet.append(["BIỂU MẪU KHẢO SÁT HỆ THỐNG CAMERA TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"])
        sheet.append([])
    sheet.append(APPENDIX_HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(
    client: TestClient, headers: dict[str, str], data: bytes, name: str, dry_run: bool, **form: str
):
    return client.post(
        "/api/v1/cameras/import",
        headers=headers,
        files={"file": (name, data)},
        data={"dry_run": str(dry_run).lower(), **form},
    )


def counts(runtime: Runtime) -> tuple[int, int]:
    with runtime.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(CameraDeclaration)),
            session.scalar(select(func.count()).select_from(Camera)),
        )


def test_preview_then_commit_an_appendix_workbook(
    client: TestClient, auth, runtime: Runtime
) -> None:
    headers = auth("commune")
    bad_count = [*GOOD[:4], "bốn", *GOOD[5:]]
    bad_url = [*GOOD[:14], "ftp://192.168.1.64/x"]
    no_model = [*GOOD[:2], "", *GOOD[3:14], ""]
    data = workbook([GOOD, bad_count, bad_url, no_model, [*GOOD[:14], ""]])
    preview = upload(client, headers, data, "khao-sat.xlsx", dry_run=True)
    assert preview.status_code == 200, preview.text
    report = preview.json()
    assert (report["rows"], report["valid"], report["invalid"]) == (5, 2, 3)
    problems = {row["line"]: row["errors"] for row in report["preview"]}
    assert problems[4] == [] and problems[8] == []
    assert "count 'bốn' is not a number" in problems[5]
    assert any("unsupported_scheme" in e or "scheme 'ftp'" in e for e in problems[6])
    assert "model is empty" in problems[7]
    assert "pw12345" not in preview.text  # the preview masks passwords too
    assert counts(runtime) == (0, 0)

    committed = upload(client, headers, data, "khao-sat.xlsx", dry_run=False).json()
    assert (committed["declarations_created"], committed["cameras_registered"]) == (2, 1)
    assert counts(runtime) == (2, 1)
    with runtime.sessions() as session:
        first = session.scalars(select(CameraDeclaration).order_by(CameraDeclaration.id)).first()
        assert (
            first.camera_type,
            first.count,
            first.recorder_kind,
            first.internet_stream,
            first.reachable_from_government_network,
            first.unit.code,
        ) == ("ip", 4, "nvr", True, False, LOC_THANH)
        camera = session.scalars(select(Camera)).one()
        assert camera.declaration_id == first.id and "pw12345" not in camera.stream_url


def test_missing_columns_are_named(client: TestClient, auth, runtime: Runtime) -> None:
    data = "Loại Camera,Vị trí\nIP,Cổng\n".encode()
    response = upload(client, auth("commune"), data, "thieu.csv", dry_run=True)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "missing_columns"
    assert (
        "model" in error["message"]
        and "manufacturer" in error["message"]
        and "count" in error["message"]
    )
    assert counts(runtime) == (0, 0)


def test_rows_for_another_commune_are_refused_row_by_row(
    client: TestClient, auth, runtime: Runtime
) -> None:
    rows = [
        [LOC_THANH, "IP", "M1", "Dahua", "2", "Cổng"],
        [LONG_THANH, "IP", "M2", "Dahua", "1", "Sân"],
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["Mã đơn vị", "Loại Camera", "Model thiết bị", "Hãng sản xuất", "Số lượng", "Vị trí"]
    )
    writer.writerows(rows)
    report = upload(
        client, auth("commune"), buffer.getvalue().encode(), "ds.csv", dry_run=False
    ).json()
    assert report["declarations_created"] == 1
    assert "Phường Long Thành is not your unit" in report["preview"][1]["errors"]


def test_broken_files(client: TestClient, auth) -> None:
    headers = auth("commune")
    # Bytes as a legacy Vietnamese code page (Windows-1258, TCVN3) would write them.
    legacy = b"Lo\xe1i Camera,Model thi\xeat b\xf2,H\xe3ng s\xf5n xu\xe2t\n"
    assert upload(client, headers, legacy, "x.csv", True).json()["error"]["code"] == "bad_encoding"
    fake_xlsx = b"PK\x03\x04 this is not a workbook"
    assert (
        upload(client, headers, fake_xlsx, "x.xlsx", True).json()["error"]["code"] == "bad_workbook"
    )


def test_the_template_reads_back(client: TestClient, auth) -> None:
    template = client.get("/api/v1/cameras/survey-template.csv", headers=auth("commune"))
    assert template.status_code == 200 and template.headers["content-type"].startswith("text/csv")
    assert template.content == template_csv()
    header = template.content.decode("utf-8-sig").splitlines()[0]
    assert header.split(",")[0] == TEMPLATE_HEADERS[0][1]
    report = upload(client, auth("commune"), template.content, "mau.csv", dry_run=True).json()
    assert report["valid"] == 1, report["preview"]


def test_declaration_form(client: TestClient, auth, runtime: Runtime) -> None:
    headers = auth("commune")
    body = {
        "camera_type": "IP",
        "model": "IPC-HFW",
        "manufacturer": "Dahua",
        "count": 3,
        "location": "Bãi xe",
        "internet_stream": "Không",
    }
    made = client.post("/api/v1/cameras/declarations", json=body, headers=headers)
    assert (
        made.status_code == 201
        and made.json()["count"] == 3
        and made.json()["unit_code"] == LOC_THANH
    )
    other = client.post(
        "/api/v1/cameras/declarations", json={**body, "unit_code": LONG_THANH}, headers=headers
    )
    assert other.status_code == 422 and "not your unit" in other.json()["error"]["message"]
    listed = client.get("/api/v1/cameras/declarations", headers=headers).json()
    assert [d["location"] for d in listed] == ["Bãi xe"]
    assert (
        client.delete(
            f"/api/v1/cameras/declarations/{made.json()['id']}", headers=auth("commune2")
        ).status_code
        == 403
    )


def test_counts_must_be_finite_whole_numbers(client: TestClient, auth, runtime: Runtime) -> None:
    headers = auth("commune")
    bad = ["inf", "-inf", "nan", "1e400", "2.5", "-3", "0"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Loại Camera", "Model thiết bị", "Hãng sản xuất", "Số lượng", "Vị trí"])
    writer.writerows([["IP", "M1", "Dahua", count, "Cổng"] for count in [*bad, "3.0"]])
    response = upload(client, headers, buffer.getvalue().encode(), "so-luong.csv", dry_run=False)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["declarations_created"] == 1
    for row, count in zip(report["preview"], bad, strict=False):
        assert any(error.startswith("count") for error in row["errors"]), (count, row)
    body = {"camera_type": "IP", "model": "M", "manufacturer": "Dahua", "location": "Cổng"}
    for count in ("Infinity", "NaN", "1e400", "2.5"):
        raw = json.dumps(body)[:-1] + f', "count": {count}}}'
        refused = client.post(
            "/api/v1/cameras/declarations",
            content=raw,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert refused.status_code == 422, (count, refused.text)
        assert "count" in refused.text
    assert counts(runtime) == (1, 0)
