"""A real headless Chromium (Debian's) driving the web UI served by a real uvicorn on loopback.

Fixtures (in tests/conftest.py): ``server`` serves a fresh copy of the seeded SQLite template,
``page`` is a new browser page on it that fails the test if any request leaves the server
(offline first) or any script error happens.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from dieuhanh.app import create_app
from dieuhanh.core.runtime import Runtime
from dieuhanh.gateway.app import UVICORN_OPTIONS
from tests.conftest import PASSWORD

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


@contextmanager
def serving(runtime: Runtime) -> Iterator[str]:
    with serving_app(create_app(runtime=runtime)) as url:
        yield url


@contextmanager
def serving_app(app: Any) -> Iterator[str]:
    """The app on a free loopback port, in a thread, until the block ends."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", **UVICORN_OPTIONS
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        assert time.monotonic() < deadline, "test server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def offline_page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(locale="vi-VN", base_url=server)
    page = context.new_page()
    host = urlparse(server).netloc
    foreign: list[str] = []
    errors: list[str] = []

    def check(url: str) -> None:
        if urlparse(url).netloc not in (host, "") and not url.startswith("data:"):
            foreign.append(url)

    page.on("request", lambda request: check(request.url))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert foreign == [], f"requests left the server: {foreign}"
    assert errors == [], f"script errors: {errors}"


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/")
    expect(page).to_have_url("/login?next=/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
