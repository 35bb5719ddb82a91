"""Directive attachments, on both databases through the API: the province attaches a PDF to a
directive sent to two communes, each sees and downloads it; a commune attaches a spreadsheet to
its report, which the province sees and the other commune may neither download nor see listed;
files are judged by their content (a renamed program is refused, a docx is known inside its
zip), the size limit is a setting (413), another commune cannot attach to a report not its own;
every attachment is audited. The board page lists what each may download."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dieuhanh.app import create_app
from dieuhanh.audit.models import AuditEntry
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.runtime import Runtime
from tests.conftest import LOC_THANH, LONG_THANH, login_form, token_for

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
LIMIT = 4096


def office(member: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(member, "<x/>")
    return buffer.getvalue()


@pytest.fixture
def app(database_url: str, make_runtime: Callable[..., Runtime]) -> Iterator[TestClient]:
    runtime = make_runtime(database_url, alerts={"attachment_max_bytes": LIMIT})
    with TestClient(create_app(runtime=runtime)) as client:
        yield client


def send(client: TestClient, who: str, url: str, name: str, data: bytes) -> object:
    return client.post(url, headers=token_for(client, who), files={"file": (name, data)})


def test_attachments_travel_with_the_directive_within_scope(app: TestClient) -> None:
    client = app
    made = client.post("/api/v1/directives", headers=token_for(client, "operator"), json={
        "title": "Rà soát điểm ngập", "deadline": (utcnow() + timedelta(days=2)).isoformat(),
        "unit_codes": [LOC_THANH, LONG_THANH]})  # fmt: skip
    code = made.json()["code"]
    base = f"/api/v1/directives/{code}"
    plan = send(client, "operator", f"{base}/attachments", "ke-hoach.pdf", PDF)
    assert plan.status_code == 201, plan.text
    assert plan.json()["content_type"] == "application/pdf"
    # Only the issuer's side attaches to the directive itself.
    assert send(client, "commune", f"{base}/attachments", "x.pdf", PDF).status_code == 403
    sheet = send(client, "commune", f"{base}/recipients/{LOC_THANH}/attachments",
                 "../../so-lieu.xlsx", office("xl/workbook.xml"))  # fmt: skip
    assert sheet.status_code == 201, sheet.text
    assert sheet.json()["filename"] == "so-lieu.xlsx"
    assert sheet.json()["content_type"].endswith("spreadsheetml.sheet")
    # Long Thành cannot attach to Lộc Thạnh's report.
    other = send(client, "commune2", f"{base}/recipients/{LOC_THANH}/attachments", "a.pdf", PDF)
    assert other.status_code == 403

    seen = client.get(base, headers=token_for(client, "commune2")).json()
    assert [a["filename"] for a in seen["attachments"]] == ["ke-hoach.pdf"]
    assert all(r["attachments"] == [] for r in seen["recipients"])  # not Lộc Thạnh's file
    downloaded = client.get(plan.json()["url"], headers=token_for(client, "commune2"))
    assert downloaded.content == PDF and downloaded.headers["content-type"] == "application/pdf"
    assert "attachment" in downloaded.headers["content-disposition"]
    refused = client.get(sheet.json()["url"], headers=token_for(client, "commune2"))
    assert refused.status_code == 403
    board = client.get("/api/v1/directives/board", headers=token_for(client, "operator")).json()
    (entry,) = [e for e in board if e["code"] == code]
    mine = [r for r in entry["recipients"] if r["unit_code"] == LOC_THANH]
    assert [a["filename"] for a in mine[0]["attachments"]] == ["so-lieu.xlsx"]
    assert client.get(sheet.json()["url"], headers=token_for(client, "operator")).status_code == 200
    # The board page lists what each may download, with a file field for its own report.
    login_form(client, "commune2")
    page = client.get("/directives").text
    assert "ke-hoach.pdf" in page and "so-lieu.xlsx" not in page
    assert f"/recipients/{LONG_THANH}/attachments" in page
    assert f"/recipients/{LOC_THANH}/attachments" not in page
    login_form(client, "operator")
    assert "so-lieu.xlsx" in client.get("/directives").text


def test_bad_files_are_refused_by_content_and_size(app: TestClient) -> None:
    client = app
    made = client.post("/api/v1/directives", headers=token_for(client, "operator"), json={
        "title": "Báo cáo nhanh", "deadline": (utcnow() + timedelta(days=1)).isoformat(),
        "unit_codes": [LOC_THANH]})  # fmt: skip
    url = f"/api/v1/directives/{made.json()['code']}/recipients/{LOC_THANH}/attachments"
    program = send(client, "commune", url, "bao-cao.pdf", b"MZ\x90\x00" + b"\x00" * 100)
    assert program.status_code == 422 and program.json()["error"]["code"] == "attachment_type"
    assert "bao-cao.pdf" in program.json()["error"]["message"]
    broken_zip = send(client, "commune", url, "a.docx", b"PK\x03\x04not really a zip")
    assert broken_zip.json()["error"]["code"] == "attachment_type"
    large = send(client, "commune", url, "lon.pdf", PDF + b"0" * LIMIT)
    assert large.status_code == 413 and large.json()["error"]["code"] == "attachment_too_large"
    huge = send(client, "commune", url, "rat-lon.pdf", PDF + b"0" * (LIMIT + 70 * 1024))
    assert huge.status_code == 413
    word = send(client, "commune", url, "bao-cao", office("word/document.xml"))
    assert word.status_code == 201 and word.json()["content_type"].endswith("document")
    assert client.post(url, files={"file": ("a.pdf", PDF)}).status_code == 401
    runtime = client.app.state.runtime
    with runtime.sessions() as session:
        audited = session.scalars(select(AuditEntry).where(
            AuditEntry.entity_type == "directive_attachments")).all()  # fmt: skip
        assert len(audited) == 1 and audited[0].actor == "commune"
