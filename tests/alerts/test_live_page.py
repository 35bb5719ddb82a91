"""In Debian's headless Chromium: an alert raised by a rule from a real event appears on an open
alerts page without a reload, and is acknowledged from it; a commune acknowledges a directive
and reports its result on the board."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dieuhanh.alerts.directives import DirectiveIn, issue
from dieuhanh.alerts.models import AlertRule
from dieuhanh.alerts.rules import RuleSpec
from dieuhanh.alerts.scenarios import province_principal
from dieuhanh.alerts.service import store_rule
from dieuhanh.alerts.subscriber import subscriptions
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.runtime import Runtime
from tests.alerts.conftest import publish_camera
from tests.browser import log_in
from tests.conftest import LOC_THANH, LONG_THANH
from tests.core.kit import deliver, subscribe


@pytest.mark.browser
def test_a_new_alert_appears_on_an_open_page(sqlite_runtime: Runtime, page: Page) -> None:
    runtime = sqlite_runtime
    with runtime.sessions() as session:
        rule = session.scalar(select(AlertRule).where(AlertRule.code == "camera_dead"))
        assert rule is not None
        store_rule(session, RuleSpec.model_validate({**rule.definition, "for": None,
                                                     "severity": "critical"}))  # fmt: skip
        session.commit()
    subscribe(runtime.sessions, *subscriptions(runtime))
    log_in(page, "operator")
    page.goto("/alerts")
    expect(page.locator("#live-state")).to_have_attribute("data-live", "on")
    expect(page.locator("#alert-table")).to_contain_text("Không có cảnh báo nào.")
    page.evaluate("window.loaded = true")  # gone if the page reloads

    publish_camera(runtime, "dead", camera_id=12)
    (subscription,) = subscriptions(runtime)
    deliver(runtime.sessions, subscription)

    row = page.locator("#alert-table tbody tr[data-alert]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Camera Cổng UBND số 12 mất tín hiệu (timeout)")
    expect(row).to_contain_text("Khẩn cấp")
    assert page.evaluate("window.loaded") is True
    row.get_by_role("button", name="Tiếp nhận").click()
    expect(row.locator(".alert-state")).to_have_text("Đã tiếp nhận")
    assert page.evaluate("window.loaded") is True


@pytest.mark.browser
def test_a_commune_acknowledges_and_reports_on_the_board(
    sqlite_runtime: Runtime, page: Page
) -> None:
    runtime = sqlite_runtime
    with runtime.sessions() as session:
        principal = province_principal(session, runtime.settings, "operator")
        issue(session, runtime.settings, principal,
              DirectiveIn(title="Rà soát hồ sơ trễ hạn", deadline=utcnow() + timedelta(days=2),
                          unit_codes=[LOC_THANH, LONG_THANH]), utcnow())  # fmt: skip
        session.commit()
    log_in(page, "commune")
    page.goto("/directives")
    expect(page.locator("#live-state")).to_have_attribute("data-live", "on")
    mine = page.locator(f'li[data-unit="{LOC_THANH}"]')
    expect(mine.locator(".recipient-state")).to_have_text("Chưa tiếp nhận")
    expect(page.locator(f'li[data-unit="{LONG_THANH}"] button')).to_have_count(0)  # not mine
    mine.get_by_role("button", name="Tiếp nhận").click()
    expect(mine.locator(".recipient-state")).to_have_text("Đã tiếp nhận")
    mine.locator("input.text").fill("Đã xử lý 12 hồ sơ.")
    mine.get_by_role("button", name="Báo cáo kết quả").click()
    expect(mine.locator(".recipient-state")).to_have_text("Đã báo cáo kết quả")


@pytest.mark.browser
def test_an_administrator_tries_and_changes_rules(sqlite_runtime: Runtime, page: Page) -> None:
    log_in(page, "admin")
    page.goto("/alerts/rules")
    row = page.locator('tr[data-rule="camera_dead"]')
    row.get_by_role("button", name="Thử trên 90 ngày qua").click()
    expect(row.locator(".try-result")).to_have_text("sẽ phát sinh 0 cảnh báo từ 0 sự kiện")
    editor = page.locator("#rules-text")
    text = editor.input_value()
    editor.fill(text.replace("when: state == 'dead'", "when: state == 'dead' and", 1))
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator("#rules-error")).to_contain_text("'camera_cluster_down'.when: syntax error")
    editor.fill(text.replace("severity: major", "severity: critical", 1))
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator("#rules-status")).to_contain_text("Đã lưu")
    with sqlite_runtime.sessions() as session:
        rule = session.scalars(select(AlertRule).where(AlertRule.code == "camera_dead")).one()
        assert rule.severity == "critical"
