"""In Debian's headless Chromium: the operations page shows the layers, switching one off hides
its markers (and is remembered), each layer's things are reachable by keyboard from its list
(focusing one shows its tooltip on the map), an alert raised while the page is open appears in
the side panel without a reload, and clicking it opens the alert."""

from __future__ import annotations

import random
import re

import pytest
from playwright.sync_api import Page, expect

from dieuhanh.alerts.models import Severity
from dieuhanh.alerts.scenarios import province_principal
from dieuhanh.alerts.service import raise_manual
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.runtime import Runtime
from tests.browser import log_in
from tests.conftest import LOC_THANH, LONG_THANH
from tests.operations import seed


@pytest.mark.browser
def test_the_operations_page_lives(sqlite_runtime: Runtime, page: Page) -> None:
    runtime = sqlite_runtime
    with runtime.sessions() as session:
        where = seed.places(session, {LOC_THANH, LONG_THANH})
        seed.cameras(session, where, 12, random.Random(1))
        seed.reports(session, where, 30, random.Random(2))
        session.commit()
    log_in(page, "operator")
    page.goto("/operations")
    expect(page.locator("#ops-live")).to_have_attribute("data-live", "on")
    cameras = page.locator('#ops-layers li[data-layer="cameras"]')
    expect(cameras).to_have_attribute("data-drawn", "12")
    expect(page.locator('#ops-layers li[data-layer="reports"]')).to_have_attribute(
        "data-drawn", "30"
    )
    expect(cameras.locator(".legend")).to_contain_text("Mất tín hiệu")
    expect(page.locator("#ops-attention")).to_contain_text("Phản ánh")
    reports = page.locator('#ops-layers li[data-layer="reports"]')
    reports.locator(".rows summary").focus()
    page.keyboard.press("Enter")  # the list opens by keyboard
    expect(reports.locator(".rows ol > li")).to_have_count(30)
    page.keyboard.press("Tab")
    focused = reports.locator(".rows ol a").first
    expect(focused).to_be_focused()
    expect(focused).to_have_attribute("href", re.compile(r"^/citizen/PA"))
    expect(page.locator(".leaflet-tooltip.ops-tooltip")).to_have_count(1)
    cameras.get_by_role("checkbox").uncheck()  # by keyboard-reachable control, as a person
    expect(cameras).to_have_attribute("data-drawn", "0")
    page.evaluate("window.loaded = true")  # gone if the page reloads

    with runtime.sessions() as session:
        principal = province_principal(session, runtime.settings, "operator")
        alert = raise_manual(session, principal, title="Sạt lở bờ sông Đồng Nai",
                             severity=Severity.CRITICAL, unit_code=LOC_THANH, detail="",
                             now=utcnow())  # fmt: skip
        session.commit()
        alert_id = alert.id
    item = page.locator(f'#ops-attention li[data-key="alert:{alert_id}"]')
    expect(item).to_contain_text("Khẩn cấp: Sạt lở bờ sông Đồng Nai")
    expect(page.locator('#ops-layers li[data-layer="alerts"]')).to_have_attribute("data-drawn", "1")
    assert page.evaluate("window.loaded") is True
    item.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/alerts/{alert_id}$"))
    expect(page.locator("#alert-title")).to_have_text("Sạt lở bờ sông Đồng Nai")
    page.goto("/operations")  # the camera layer stays off
    expect(page.locator('#ops-layers li[data-layer="reports"]')).to_have_attribute(
        "data-drawn", "30"
    )
    expect(page.locator('#ops-layers li[data-layer="cameras"] input')).not_to_be_checked()
