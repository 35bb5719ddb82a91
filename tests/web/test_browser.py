"""The web UI in a real headless Chromium (Debian's), driven by Playwright.

The browser runs with the network closed to it except for the test server on loopback: every
request it makes is checked to stay on that server (offline first).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import log_in

pytestmark = pytest.mark.browser


def test_login_map_search_and_open_loc_thanh(page: Page) -> None:
    log_in(page, "viewer")
    map_element = page.locator("#province-map")
    expect(map_element).to_have_attribute("data-features", "95", timeout=15_000)
    expect(page.locator("path.commune-shape")).to_have_count(95)
    expect(page.locator("#map-summary")).to_contain_text("95 xã, phường")

    page.locator("#map-search").fill("loc thanh")
    result = page.locator("#map-results a", has_text="Xã Lộc Thạnh")
    expect(result).to_be_visible()
    result.click()
    expect(page.locator("#unit-name")).to_have_text("Xã Lộc Thạnh")
    expect(page).to_have_url("/units/25280")
    # The unit page draws its own boundary without tiles.
    expect(page.locator("#unit-map path.leaflet-interactive")).to_have_count(1)


def test_clicking_a_commune_on_the_map_opens_its_page(page: Page) -> None:
    log_in(page, "commune")
    expect(page.locator("path.commune-shape")).to_have_count(95, timeout=15_000)
    page.locator("path.commune-shape").first.dispatch_event("click")
    expect(page.locator("#unit-name")).to_be_visible()
    assert page.url.split("/units/")[1].isdigit()


def test_unit_list_searches_as_one_types(page: Page) -> None:
    log_in(page, "viewer")
    page.goto("/units")
    expect(page.locator("#unit-rows tr")).to_have_count(95)
    page.locator("#unit-search").fill("xa Loc Thanh")
    expect(page.locator("#unit-rows a", has_text="Xã Lộc Thạnh")).to_be_visible()
    expect(page.locator("#unit-rows tr")).to_have_count(2)  # Lộc Thạnh and Lộc Thành
    page.locator("#unit-rows a", has_text="Xã Lộc Thạnh").click()
    expect(page.locator("#unit-name")).to_have_text("Xã Lộc Thạnh")


def test_english_switch(page: Page) -> None:
    log_in(page, "viewer")
    page.get_by_role("link", name="EN").click()
    expect(page.get_by_role("link", name="Units")).to_be_visible()
    expect(page.locator("#map-summary")).to_contain_text("95 communes and wards", timeout=15_000)
