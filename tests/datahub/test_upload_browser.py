"""In Debian's headless Chromium: an officer uploads an Excel file with two bad rows, sees the
two rows' errors in the preview, imports, and the good rows are stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.service import save_source
from dieuhanh.datahub.spec import parse_spec
from dieuhanh.datahub.standins import documents_upload_source
from dieuhanh.indicators.catalog.models import DataElement, DataValue
from tests.browser import log_in
from tests.datahub.test_upload import GOOD_AND_TWO_BAD, workbook

pytestmark = pytest.mark.browser


def test_an_excel_file_with_two_bad_rows(
    sqlite_runtime: Runtime, page: Page, tmp_path: Path
) -> None:
    with sqlite_runtime.sessions() as session:
        set_actor(session, SYSTEM)
        save_source(session, parse_spec(documents_upload_source()))
        session.commit()
    file = tmp_path / "van-ban-den.xlsx"
    file.write_bytes(workbook(GOOD_AND_TWO_BAD))

    log_in(page, "operator")
    page.goto("/datahub")
    page.get_by_role("link", name="Tải tệp lên").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tải tệp số liệu")
    page.locator("input[type=file]").set_input_files(str(file))
    page.get_by_role("button", name="Xem trước").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("5 dòng, 2 dòng lỗi; sẽ thêm 3")
    problems = page.locator("#upload-problems tbody tr")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_contain_text("5")
    expect(problems.nth(0)).to_contain_text("is not a whole number")
    expect(problems.nth(1)).to_contain_text("Mã đơn vị")
    expect(page.locator("#upload-rows tbody tr.row-error")).to_have_count(2)

    page.get_by_role("button", name="Nhập số liệu").click()
    expect(status).to_contain_text("Đã nhập: 5 dòng, thêm 3")
    expect(problems).to_have_count(2)
    with sqlite_runtime.sessions() as session:
        element = session.scalars(
            select(DataElement).where(DataElement.code == "DOCS_INCOMING")
        ).one()
        values = session.scalars(select(DataValue).where(DataValue.element_id == element.id))
        assert sorted(value.value for value in values) == ["1234", "40", "87"]
