"""Staff pages: the queue within one's scope, a report's page with its steps, and, in Debian's
headless Chromium, an officer accepting a report from its page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from dieuhanh.citizen.models import Channel
from dieuhanh.citizen.service import Intake, file_report
from dieuhanh.core.runtime import Runtime
from tests.browser import log_in
from tests.citizen.test_reports import enter

Auth = Callable[[str], dict[str, str]]


def test_the_queue_and_a_report_page(client: TestClient, auth: Auth) -> None:
    report = enter(client, auth, who="commune", address="xã Lộc Thạnh")
    queue = client.get("/citizen", headers=auth("commune"))
    assert queue.status_code == 200 and f'data-report="{report["code"]}"' in queue.text
    assert report["code"] not in client.get("/citizen", headers=auth("commune2")).text
    page = client.get(f"/citizen/{report['code']}", headers=auth("commune"))
    assert page.status_code == 200 and "0912345678" in page.text  # staff see the contact
    assert f"/api/v1/citizen/reports/{report['code']}/accept" in page.text
    assert client.get(f"/citizen/{report['code']}", headers=auth("commune2")).status_code == 403


@pytest.mark.browser
def test_an_officer_accepts_a_report_from_its_page(sqlite_runtime: Runtime, page: Page) -> None:
    with sqlite_runtime.sessions() as session:
        report = file_report(session, sqlite_runtime.settings,
                             Intake(category="garbage", description="Rác tồn đọng ở chợ.",
                                    address="xã Lộc Thạnh"), Channel.HOTLINE)  # fmt: skip
        code = report.code
        session.commit()
    log_in(page, "commune")
    page.goto("/citizen")
    page.get_by_role("link", name=code).click()
    expect(page.locator("#report-status")).to_have_text("Đã tiếp nhận")
    page.get_by_role("button", name="Thụ lý", exact=True).click()
    expect(page.locator("#report-status")).to_have_text("Đã thụ lý")
    page.get_by_placeholder("Kết quả xử lý (công khai cho người dân)").fill("Đã thu gom.")
    page.get_by_role("button", name="Đã xử lý", exact=True).click()
    expect(page.locator("#report-status")).to_have_text("Đã xử lý")
