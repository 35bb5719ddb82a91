"""The camera views in real Chromium: the grid and its saved layouts, the map, the video wall;
and, without a browser, who may see which camera on them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from dieuhanh.app import create_app
from dieuhanh.core.runtime import Runtime
from tests.browser import log_in
from tests.cameras.test_player import count_frames, expect_frames, register
from tests.conftest import LOC_THANH, LONG_THANH, login_form, token_for

BIEN_HOA = (10.95, 106.82)
DONG_XOAI = (11.54, 106.90)
LONG_KHANH = (10.94, 107.24)


def enter(page: Page, path: str) -> None:
    log_in(page, "operator")
    expect(page).to_have_url("/")
    page.goto(path)


def tile(index: int) -> str:
    return f"#camera-grid .grid-tile:nth-child({index + 1}) .tile-player"


@pytest.mark.browser
def test_grid_plays_cameras_and_reloads_the_saved_layout(
    page: Page, sqlite_runtime: Runtime, simulator: Any
) -> None:
    gate, desk = register(
        sqlite_runtime,
        [
            {"name": "Cổng", "stream_url": simulator.url("/h264")},
            {"name": "Quầy", "stream_url": simulator.url("/h264-audio")},
        ],
    )
    enter(page, "/cameras/grid")
    grid = page.locator("#camera-grid")
    expect(grid).to_have_attribute("data-ready", "true")
    expect(grid.locator(".grid-tile")).to_have_count(4)
    expect(grid.locator(".grid-tile.empty")).to_have_count(4)
    grid.locator(".tile-camera").nth(0).select_option(str(gate["id"]))
    grid.locator(".tile-camera").nth(1).select_option(str(desk["id"]))
    for index in (0, 1):
        count_frames(page, tile(index))
    for index in (0, 1):
        expect_frames(page, tile(index))
        expect(page.locator(tile(index))).to_have_attribute("data-state", "playing")
    expect(grid.locator(".grid-tile.empty")).to_have_count(2)

    page.get_by_label("Tên bố cục").fill("Cổng và quầy")
    page.get_by_role("button", name="Lưu bố cục").click()
    expect(page.locator("#layout-message")).to_have_text("Đã lưu bố cục “Cổng và quầy”.")
    expect(page).to_have_url(re.compile(r"/cameras/grid\?layout=\d+$"))

    page.reload()
    expect(grid).to_have_attribute("data-ready", "true")
    expect(page.locator("#layout-select option:checked")).to_have_text("Cổng và quầy")
    expect(grid.locator(".tile-camera").nth(0)).to_have_value(str(gate["id"]))
    expect(grid.locator(".tile-camera").nth(1)).to_have_value(str(desk["id"]))
    for index in (0, 1):
        count_frames(page, tile(index))
    for index in (0, 1):
        expect_frames(page, tile(index))

    page.goto("/cameras/grid")  # without ?layout=: the last one used
    expect(grid.locator(".tile-camera").nth(1)).to_have_value(str(desk["id"]))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Xóa bố cục").click()
    expect(page.locator("#layout-message")).to_have_text("Đã xóa bố cục “Cổng và quầy”.")
    expect(grid.locator(".grid-tile.empty")).to_have_count(4)


@pytest.mark.browser
def test_map_markers_by_state_and_the_popup_opens_the_player(
    page: Page, sqlite_runtime: Runtime, simulator: Any, refusing: str
) -> None:
    (live,) = register(
        sqlite_runtime,
        [{"name": "Cầu Hóa An", "stream_url": simulator.url("/h264"), "lat": BIEN_HOA[0],
          "lon": BIEN_HOA[1]}],
    )  # fmt: skip
    register(
        sqlite_runtime,
        [{"name": "Chợ Đồng Xoài", "stream_url": refusing, "lat": DONG_XOAI[0],
          "lon": DONG_XOAI[1]}],
    )  # fmt: skip
    register(
        sqlite_runtime,
        [
            {"name": "Ngã ba A", "stream_url": refusing, "lat": LONG_KHANH[0],
             "lon": LONG_KHANH[1]},
            {"name": "Ngã ba B", "stream_url": refusing, "lat": LONG_KHANH[0] + 0.001,
             "lon": LONG_KHANH[1]},
            {"name": "Chưa định vị", "stream_url": refusing},
        ],
        probe=False,
    )  # fmt: skip
    enter(page, "/cameras/map")
    container = page.locator("#camera-map")
    expect(container).to_have_attribute("data-ready", "true", timeout=15_000)
    expect(container).to_have_attribute("data-markers", "4")
    expect(page.locator("#camera-map-summary")).to_have_text(
        "4 camera trên bản đồ · 1 camera chưa có tọa độ"
    )
    expect(page.locator("path.commune-shape")).to_have_count(95)
    expect(page.locator(".camera-marker.state-live")).to_have_count(1)
    expect(page.locator(".camera-marker.state-dead")).to_have_count(1)
    cluster = page.locator(".camera-cluster.state-unknown")  # the two close ones, zoomed out
    expect(cluster).to_have_text("2")

    page.locator(".camera-marker.state-dead").click()
    expect(page.locator(".camera-popup")).to_contain_text(
        re.compile(r"Camera mất tín hiệu từ \d\d:\d\d — bị từ chối kết nối")
    )
    page.locator(".camera-marker.state-live").click()
    popup = page.locator(f".camera-popup[data-camera='{live['id']}']")  # the other fades out
    expect(popup).to_contain_text("Cầu Hóa An")
    expect(popup).to_contain_text("Hoạt động")
    expect(popup.locator("img.popup-snapshot")).to_have_attribute(
        "src", f"/api/v1/cameras/{live['id']}/snapshot.jpg"
    )
    popup.get_by_role("button", name="Xem trực tiếp").click()
    expect(page.locator("#map-live-name")).to_have_text("Cầu Hóa An")
    expect(page.locator("#map-live-page")).to_have_attribute("href", f"/cameras/{live['id']}/live")
    count_frames(page, "#map-live-player")
    expect_frames(page, "#map-live-player")
    expect(page.locator("#map-live-player")).to_have_attribute("data-state", "playing")

    cluster.click()
    expect(page.locator(".camera-marker.state-unknown")).to_have_count(2)


@pytest.mark.browser
def test_wall_rotates_through_the_saved_layouts(
    page: Page, sqlite_runtime: Runtime, simulator: Any
) -> None:
    gate, desk = register(
        sqlite_runtime,
        [
            {"name": "Cổng", "stream_url": simulator.url("/h264")},
            {"name": "Quầy", "stream_url": simulator.url("/h264-audio")},
        ],
    )
    with TestClient(create_app(runtime=sqlite_runtime)) as client:
        headers = token_for(client, "operator")
        first, second = (
            client.post("/api/v1/camera-layouts", headers=headers, json=body).json()
            for body in (
                {"name": "Cổng lớn", "size": 1, "camera_ids": [gate["id"]], "rotate_seconds": 5},
                {"name": "Bốn ô", "size": 4, "camera_ids": [desk["id"], None, gate["id"]],
                 "rotate_seconds": 5, "position": 1},
            )
        )  # fmt: skip
    enter(page, "/cameras/wall")
    wall = page.locator("#camera-wall")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(wall).to_have_attribute("data-layout", str(first["id"]))
    expect(page.locator("#wall-layout-name")).to_have_text("Cổng lớn")
    expect(wall.locator(".tile-player")).to_have_count(1)
    expect(wall.locator(".tile-player").first).to_have_attribute(
        "data-state", "playing", timeout=15_000
    )
    expect(page.locator("body")).to_have_class(re.compile(r"\bcursor-hidden\b"))

    expect(wall).to_have_attribute("data-layout", str(second["id"]), timeout=10_000)
    expect(page.locator("#wall-layout-name")).to_have_text("Bốn ô")
    expect(wall.locator(".grid-tile")).to_have_count(4)
    expect(wall.locator(".grid-tile.empty")).to_have_count(2)
    expect(wall.locator(".camera-player[data-state='playing']")).to_have_count(2, timeout=15_000)
    wall.click()
    page.wait_for_function("() => document.fullscreenElement !== null")

    page.goto(f"/cameras/wall?layout={second['id']}")  # pinned: only this one
    expect(wall).to_have_attribute("data-layout", str(second["id"]))
    expect(wall).to_have_attribute("data-rotations", "1")


def test_views_need_a_login_and_show_only_the_cameras_in_scope(
    client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    headers = auth("admin")
    ids = {}
    for name, unit in (("Ở Lộc Thạnh", LOC_THANH), ("Ở Long Thành", LONG_THANH)):
        response = client.post(
            "/api/v1/cameras",
            headers=headers,
            json={"name": name, "unit_code": unit, "stream_url": "rtsp://10.255.0.1/x"},
        )
        assert response.status_code == 201, response.text
        ids[unit] = response.json()["id"]
    for path in (
        "/cameras/map",
        "/cameras/grid",
        "/cameras/wall",
        f"/cameras/{ids[LOC_THANH]}/live",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")

    assert login_form(client, "commune").status_code == 303
    for path in ("/cameras/map", "/cameras/grid", "/cameras/wall"):
        page = client.get(path)
        assert page.status_code == 200, path
        choices = re.search(r'id="camera-choices">(.*?)</script>', page.text, re.S)
        assert choices is not None
        assert [c["name"] for c in json.loads(choices.group(1))] == ["Ở Lộc Thạnh"]
        assert 'id="player-labels"' in page.text
    assert client.get(f"/cameras/{ids[LOC_THANH]}/live").status_code == 200
    assert client.get(f"/cameras/{ids[LONG_THANH]}/live").status_code in (403, 404)
    nav = client.get("/").text
    assert 'href="/cameras/map"' in nav and 'href="/cameras/grid"' in nav
    labels = re.search(r'id="player-labels">(.*?)</script>', client.get("/cameras/grid").text, re.S)
    assert labels is not None
    assert json.loads(labels.group(1))["reasons"]["refused"] == "Bị từ chối kết nối"
