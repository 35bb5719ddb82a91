"""In Debian's headless Chromium: an operator declares a reconciliation through its form, runs
it, sees the difference and resolves it with a reason; the history keeps who and why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.catalog.models import Source
from dieuhanh.indicators.values.save import ValueRow, save_values
from tests.browser import log_in
from tests.conftest import LOC_THANH

pytestmark = pytest.mark.browser
PERIOD = datetime.now(UTC).strftime("%Y%m")  # a month still open to values


def test_declare_run_and_resolve_a_reconciliation(sqlite_runtime: Runtime, page: Page) -> None:
    with sqlite_runtime.sessions() as session:
        set_actor(session, SYSTEM)
        rows = [
            ValueRow(element=element, unit=LOC_THANH, period=PERIOD, value=value, option="ONLINE")
            for element, value in (("DOSSIERS_RECEIVED", "12"), ("DOSSIERS_PROCESSED", "9"))
        ]
        assert not save_values(session, None, rows, source=Source.CONNECTOR).conflicts
        session.commit()

    log_in(page, "operator")
    page.goto("/datahub/reconciliations")
    page.get_by_role("link", name="Khai báo đối soát").click()
    page.get_by_label("Mã", exact=True).fill("received_processed")
    page.get_by_label("Tên", exact=True).fill("Hồ sơ tiếp nhận và đã giải quyết")
    page.get_by_label("Các kỳ").fill(PERIOD)
    page.locator('[name="left.element"]').fill("DOSSIERS_RECEIVED")
    page.locator('[name="right.kind"]').select_option("element")  # shows the element's inputs
    page.locator('[name="right.element"]').fill("DOSSIERS_PROCESSED")
    page.get_by_role("button", name="Lưu khai báo").click()
    expect(page.get_by_role("status")).to_contain_text("Đã lưu khai báo received_processed.")

    row = page.locator('tr[data-reconciliation="received_processed"]')
    row.get_by_role("button", name="Chạy ngay").click()
    expect(row.locator(".open-count")).to_have_text("1")
    row.get_by_role("link", name="Hồ sơ tiếp nhận và đã giải quyết").click()
    mismatch = page.locator("#mismatch-table tbody tr")
    expect(mismatch).to_have_count(1)
    expect(mismatch).to_contain_text("12")
    expect(mismatch.locator("td.num b")).to_have_text("3")
    mismatch.get_by_placeholder("Số nào đúng, vì sao").fill("Còn 3 hồ sơ đang giải quyết.")
    mismatch.get_by_role("button", name="Giải trình").click()
    expect(mismatch).to_contain_text("Đã giải trình")
    expect(mismatch).to_contain_text("operator giải trình: Còn 3 hồ sơ đang giải quyết.")
