"""Camera pages in real Chromium: the progress map and a camera's status page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from dieuhanh.app import create_app
from dieuhanh.core.runtime import Runtime
from tests.browser import log_in
from tests.conftest import LOC_THANH, LONG_THANH, token_for

pytestmark = pytest.mark.browser


def seed(runtime: Runtime, live_url: str, dead_url: str) -> tuple[int, int]:
    """A live camera in Lộc Thạnh and a dead one in Long Thành, probed; a declaration elsewhere."""
    with TestClient(create_app(runtime=runtime)) as client:
        headers = token_for(client, "admin")
        ids = []
        for name, unit, url in (
            ("Sảnh TTPVHCC", LOC_THANH, live_url),
            ("Cổng", LONG_THANH, dead_url),
        ):
            camera = client.post(
                "/api/v1/cameras",
                headers=headers,
                json={"name": name, "unit_code": unit, "stream_url": url},
            ).json()
            assert (
                client.post(f"/api/v1/cameras/{camera['id']}/probe", headers=headers).status_code
                == 200
            )
            ids.append(camera["id"])
        client.post(
            "/api/v1/cameras/declarations",
            headers=headers,
            json={
                "unit_code": "26068",
                "camera_type": "IP",
                "model": "M",
                "manufacturer": "Dahua",
                "count": 5,
                "location": "Sảnh",
            },
        )
        return ids[0], ids[1]


def test_progress_map_and_status_page(
    page: Page, sqlite_runtime: Runtime, simulator, refusing
) -> None:
    live_id, dead_id = seed(sqlite_runtime, simulator.url("/h265"), refusing)
    log_in(page, "operator")
    page.goto("/cameras/progress")
    expect(page.locator("#progress-headline")).to_contain_text("1/95")
    expect(page.locator("#progress-map")).to_have_attribute("data-features", "95", timeout=15_000)
    expect(page.locator("path.progress-shape")).to_have_count(95)
    expect(page.locator("path.progress-shape.stage-connected")).to_have_count(1)
    expect(page.locator("path.progress-shape.stage-registered")).to_have_count(1)
    expect(page.locator("path.progress-shape.stage-declared")).to_have_count(1)

    page.goto(f"/cameras/{live_id}")
    status = page.locator("#camera-status")
    expect(status).to_have_attribute("data-state", "live")
    expect(status).to_contain_text("Hoạt động")
    expect(page.locator("#status-codec")).to_contain_text("H265")
    expect(page.locator("#stream-url, input[name=stream_url]").first).not_to_contain_text("Cam@123")

    page.goto(f"/cameras/{dead_id}")
    expect(page.locator("#camera-status")).to_have_attribute("data-reason", "refused")
    expect(page.locator("#status-reason")).to_have_text("Bị từ chối kết nối")
    page.get_by_role("button", name="Kiểm tra ngay").click()
    expect(page.locator("#state-changes tr")).to_have_count(1)  # still refused: no new change


def test_commune_officer_registers_a_camera_in_the_form(page: Page, simulator) -> None:
    log_in(page, "commune")
    page.goto("/cameras/new")
    page.get_by_label("Tên camera").fill("Camera quầy 1")
    page.get_by_label("Đường dẫn luồng chính").fill(simulator.url("/h264"))
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator("#camera-name")).to_have_text("Camera quầy 1")
    page.get_by_role("button", name="Kiểm tra ngay").click()
    expect(page.locator("#camera-status")).to_have_attribute("data-state", "live", timeout=15_000)
