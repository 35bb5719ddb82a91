"""Staff pages: the queue within one's scope, a report's page with its steps, and, in Debian's
headless Chromium, an officer accepting a report from its page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from dieuhanh.citizen.models import Channel, ReportCategory
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


def test_open311_keys_page_is_for_administrators(client: TestClient, auth: Auth) -> None:
    assert client.get("/citizen/open311-keys", headers=auth("operator")).status_code == 403
    client.post("/api/v1/open311/keys", json={"name": "Đồng Nai S"}, headers=auth("admin"))
    page = client.get("/citizen/open311-keys", headers=auth("admin"))
    assert page.status_code == 200 and "Đồng Nai S" in page.text and "o311_" not in page.text
    assert "/citizen/open311-keys" in client.get("/citizen", headers=auth("admin")).text


@pytest.mark.browser
def test_an_administrator_issues_a_key_that_posts(sqlite_runtime: Runtime, page: Page) -> None:
    log_in(page, "admin")
    page.goto("/citizen/open311-keys")
    page.get_by_placeholder("Cấp cho (tên ứng dụng, đơn vị)").fill("Ứng dụng Đồng Nai S")
    page.get_by_role("button", name="Cấp khóa").click()
    expect(page.locator("#new-key")).to_be_visible()
    key = page.locator("#new-key-value").inner_text()
    assert key.startswith("o311_")
    posted = page.request.post("/open311/v2/requests.json", form={
        "api_key": key, "service_code": "garbage", "address_string": "xã Lộc Thạnh",
        "phone": "0912345678", "description": "Rác tồn đọng ở chợ."})  # fmt: skip
    assert posted.status == 200 and posted.json()[0]["service_request_id"].startswith("PA")
    page.reload()
    page.get_by_role("button", name="Thu hồi").click()
    expect(page.locator("#key-table")).to_contain_text("Đã thu hồi")
    refused = page.request.post("/open311/v2/requests.json", form={"api_key": key})
    assert refused.status == 403


def test_categories_page_lets_only_administrators_change(client: TestClient, auth: Auth) -> None:
    for who in ("commune", "admin"):
        page = client.get("/citizen/categories", headers=auth(who))
        assert page.status_code == 200 and 'data-category="road_damage"' in page.text
        changing = 'data-url="/api/v1/citizen/categories/road_damage"' in page.text
        assert changing == (who == "admin")


@pytest.mark.browser
def test_an_administrator_changes_a_category_deadline(sqlite_runtime: Runtime, page: Page) -> None:
    log_in(page, "admin")
    page.goto("/citizen/categories")
    row = page.locator('tr[data-category="lighting"]')
    editor = row.locator("xpath=following-sibling::tr[1]")
    editor.get_by_text("Sửa").click()
    editor.locator('input[name="deadline_days"]').fill("7")
    editor.locator('input[name="active"]').uncheck()
    editor.get_by_role("button", name="Lưu").click()
    expect(row.locator("td").nth(3)).to_have_text("7")
    expect(row.locator("td").nth(5)).to_have_text("Ngừng dùng")
    with sqlite_runtime.sessions() as session:
        lighting = session.query(ReportCategory).filter_by(code="lighting").one()
        assert (lighting.deadline_days, lighting.active) == (7, False)
