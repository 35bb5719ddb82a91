"""The web UI in a real headless Chromium (Debian's), driven by Playwright.

The browser runs with the network closed to it except for the test server on loopback: every
request it makes is checked to stay on that server (offline first).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from dieuhanh.app import create_app
from dieuhanh.runtime import Runtime
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(sqlite_runtime: Runtime) -> Iterator[str]:
    # The browser tests exercise the UI; storage is covered on both databases elsewhere.
    runtime = sqlite_runtime
    port = free_port()
    config = uvicorn.Config(
        create_app(runtime=runtime), host="127.0.0.1", port=port, log_level="warning"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        assert time.monotonic() < deadline, "test server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser, server: str, tmp_path: Path) -> Iterator[Page]:
    context = browser.new_context(locale="vi-VN", base_url=server)
    opened = context.new_page()
    foreign: list[str] = []
    host = urlparse(server).netloc
    opened.on(
        "request",
        lambda r: (
            foreign.append(r.url)
            if urlparse(r.url).netloc not in (host, "") and not r.url.startswith("data:")
            else None
        ),
    )
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    assert foreign == [], f"requests left the server: {foreign}"
    assert errors == [], f"script errors: {errors}"


def log_in(page: Page, username: str) -> None:
    page.goto("/")
    expect(page).to_have_url("/login?next=/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


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
