"""The camera player (static/js/player.js) in real Chromium, on real RTSP cameras.

Frames must be presented, not just a page loaded: ``requestVideoFrameCallback`` counts and
``currentTime`` advancing. Chromium here decodes H.264 only, so the H.265 passthrough path is
chosen by making the page claim H.265 support, and must end in a clear error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from websockets.sync.client import connect

from dieuhanh.app import create_app
from dieuhanh.core.runtime import Runtime
from dieuhanh.gateway.fmp4 import parse_init
from tests.browser import log_in, offline_page, serving
from tests.conftest import CREDENTIAL_KEY, LOC_THANH, BackendPool, token_for

pytestmark = pytest.mark.browser

# Chromium answers false for hvc1 here; a browser with a platform decoder would answer true.
CLAIM_HEVC = """
(() => {
  const asked = MediaSource.isTypeSupported.bind(MediaSource);
  MediaSource.isTypeSupported = (type) => /hvc1|hev1/.test(type) || asked(type);
})();
"""
NO_MEDIA_SOURCE = "delete window.MediaSource; delete window.ManagedMediaSource;"
# Keeps the page's WebSockets reachable (to cut one as a network drop would) and notes when
# init segments arrive (a new one comes mid-stream when the camera restarts).
TRACK_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.sockets = [];
  window.inits = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      window.sockets.push(this);
      this.addEventListener('message', (event) => {
        if (typeof event.data === 'string') return; // a status message
        const head = new Uint8Array(event.data, 4, 4);
        if (String.fromCharCode(...head) === 'ftyp') window.inits.push(performance.now());
      });
    }
  };
})();
"""


def register(
    runtime: Runtime, cameras: list[dict[str, Any]], probe: bool = True
) -> list[dict[str, Any]]:
    """Cameras registered (and probed, as the monitor would) through the API, as the admin."""
    made = []
    with TestClient(create_app(runtime=runtime)) as client:
        headers = token_for(client, "admin")
        for body in cameras:
            response = client.post(
                "/api/v1/cameras", headers=headers, json={"unit_code": LOC_THANH, **body}
            )
            assert response.status_code == 201, response.text
            camera = response.json()
            if probe:
                probed = client.post(f"/api/v1/cameras/{camera['id']}/probe", headers=headers)
                assert probed.status_code == 200, probed.text
            made.append(camera)
    return made


def count_frames(page: Page, player: str) -> None:
    """Counts the frames the player's <video> presents from now on."""
    page.locator(f"{player} video").wait_for(state="attached")
    page.eval_on_selector(
        f"{player} video",
        """(video) => {
          video.dataset.frames = '0';
          video.dataset.startedAt = String(video.currentTime);
          const counted = () => {
            video.dataset.frames = String(Number(video.dataset.frames) + 1);
            video.requestVideoFrameCallback(counted);
          };
          video.requestVideoFrameCallback(counted);
        }""",
    )


def expect_frames(page: Page, player: str, frames: int = 15, timeout: float = 20_000) -> None:
    """Frames presented and the playhead moving (a still picture would not pass)."""
    page.wait_for_function(
        """([player, frames]) => {
          const video = document.querySelector(player + ' video');
          if (!video || video.dataset.frames === undefined) return false;
          return Number(video.dataset.frames) >= frames
            && video.currentTime > Number(video.dataset.startedAt) + 0.5;
        }""",
        arg=[player, frames],
        timeout=timeout,
    )


def watch(page: Page, camera_id: int) -> None:
    log_in(page, "operator")
    expect(page).to_have_url("/")
    page.goto(f"/cameras/{camera_id}/live")
    count_frames(page, "#live-player")


def test_h264_camera_plays_through_passthrough(
    page: Page, sqlite_runtime: Runtime, simulator: Any
) -> None:
    (camera,) = register(
        sqlite_runtime, [{"name": "Cổng chính", "stream_url": simulator.url("/h264")}]
    )
    watch(page, camera["id"])
    player = page.locator("#live-player")
    expect(player).to_have_attribute("data-state", "playing", timeout=20_000)
    expect_frames(page, "#live-player")
    expect(player).to_have_attribute("data-path", "mse")
    expect(player).to_have_attribute("data-codec", "h264")
    expect(player).to_have_attribute("data-transcoded", "false")
    expect(player.locator(".player-codec")).to_have_text("H.264")
    expect(player.locator(".player-delay")).to_contain_text("trễ")
    delay = float(player.get_attribute("data-delay") or "99")
    assert 0 <= delay < 2.0, f"{delay} s behind live"
    expect(player.locator(".player-message")).to_be_hidden()
    expect(page.locator("#status-link")).to_have_attribute("href", f"/cameras/{camera['id']}")


def test_player_reconnects_with_a_fresh_url_after_the_socket_drops(
    page: Page, sqlite_runtime: Runtime, simulator: Any
) -> None:
    (camera,) = register(
        sqlite_runtime, [{"name": "Cổng sau", "stream_url": simulator.url("/h264")}]
    )
    page.add_init_script(TRACK_SOCKETS)
    urls: list[str] = []
    page.on(
        "request", lambda request: urls.append(request.url) if "/stream?" in request.url else None
    )
    watch(page, camera["id"])
    player = page.locator("#live-player")
    expect(player).to_have_attribute("data-state", "playing", timeout=20_000)
    page.evaluate("window.sockets[0].close()")
    expect(player).to_have_attribute("data-state", "reconnecting")
    expect(player.locator(".player-retry")).to_have_text("Tự thử lại sau 1 giây")
    expect(player).to_have_attribute("data-state", "playing", timeout=20_000)
    count_frames(page, "#live-player")
    expect_frames(page, "#live-player")
    assert page.evaluate("window.sockets.length") == 2
    assert len(urls) == 2  # a fresh stream URL (tokens expire), not the old one again


@pytest.fixture
def runtime_with(
    backend_pool: BackendPool, make_runtime: Callable[..., Runtime]
) -> Iterator[Callable[..., Runtime]]:
    """A runtime on its own copy of the seeded SQLite database, with settings changed."""
    backend = backend_pool.get("sqlite")
    urls: list[str] = []

    def build(**overrides: Any) -> Runtime:
        urls.append(backend.copy_template())
        return make_runtime(urls[-1], **overrides)

    yield build
    for url in urls:
        backend.drop(url)


def test_player_continues_after_the_camera_restarts_mid_stream(
    browser: Browser, runtime_with: Callable[..., Runtime], simulator: Any
) -> None:
    """The camera stops sending after 1.5 s; the gateway reconnects to it and sends a new init
    segment on the same socket: the player appends it and shows the new pictures."""
    # Cameras given up on after 2 s instead of 5: the stall is noticed sooner.
    quick_runtime = runtime_with(
        cameras={"credential_keys": [CREDENTIAL_KEY], "monitor": {"timeout_seconds": 2}}
    )
    (camera,) = register(
        quick_runtime, [{"name": "Cầu tạm", "stream_url": simulator.url("/stall")}], probe=False
    )
    with serving(quick_runtime) as server, offline_page(browser, server) as page:
        page.add_init_script(TRACK_SOCKETS)
        watch(page, camera["id"])
        player = page.locator("#live-player")
        expect(player).to_have_attribute("data-state", "playing", timeout=15_000)
        page.eval_on_selector(
            "#live-player video",
            """(video) => {
              const seen = (now, frame) => {
                window.lastFrame = { at: now, mediaTime: frame.mediaTime };
                video.requestVideoFrameCallback(seen);
              };
              video.requestVideoFrameCallback(seen);
            }""",
        )
        page.wait_for_function(
            "() => window.inits.length >= 2 && window.lastFrame.at > window.inits[1] + 200",
            timeout=25_000,
        )
        assert page.evaluate("window.sockets.length") == 1  # the same socket carried both
        expect(player).to_have_attribute("data-state", "playing")


def test_no_transcoding_slot_is_explained_and_retried(
    browser: Browser, runtime_with: Callable[..., Runtime], simulator: Any
) -> None:
    busy = runtime_with(gateway={"secret": "test-gateway-secret", "max_transcodes": 0})
    (camera,) = register(busy, [{"name": "Ngã sáu", "stream_url": simulator.url("/h265")}])
    with serving(busy) as server, offline_page(browser, server) as page:
        watch(page, camera["id"])
        player = page.locator("#live-player")
        expect(player).to_have_attribute("data-state", "error")
        expect(player).to_have_attribute("data-reason", "transcode_limit")
        expect(player.locator(".player-text")).to_contain_text(
            "Máy chủ đã dùng hết lượt chuyển mã H.265 → H.264"
        )
        expect(player.locator(".player-retry")).to_have_text(re.compile(r"Tự thử lại sau \d giây"))
        with page.expect_request(re.compile(r"/stream\?"), timeout=5_000):
            pass  # it asks again by itself, with a doubling wait


def test_hls_when_the_browser_has_no_media_source(
    page: Page, sqlite_runtime: Runtime, simulator: Any
) -> None:
    (camera,) = register(sqlite_runtime, [{"name": "Quầy 1", "stream_url": simulator.url("/h264")}])
    page.add_init_script(NO_MEDIA_SOURCE)
    watch(page, camera["id"])
    player = page.locator("#live-player")
    expect(player).to_have_attribute("data-path", "hls", timeout=10_000)
    expect_frames(page, "#live-player", frames=10, timeout=30_000)
    expect(player).to_have_attribute("data-state", "playing")
    assert page.eval_on_selector("#live-player video", "(v) => v.src").startswith("http")


def test_h265_camera_is_transcoded_for_a_browser_without_h265(
    page: Page, sqlite_runtime: Runtime, simulator: Any
) -> None:
    (camera,) = register(sqlite_runtime, [{"name": "Ngã tư", "stream_url": simulator.url("/h265")}])
    with page.expect_response(re.compile(r"/stream\?")) as answer:
        watch(page, camera["id"])
    assert "codecs=avc1&" in answer.value.url  # Chromium's own answer: no H.265
    stream = answer.value.json()
    assert (stream["codec"], stream["source_codec"], stream["transcoded"]) == ("h264", "h265", True)
    player = page.locator("#live-player")
    expect(player).to_have_attribute("data-state", "playing", timeout=25_000)
    expect_frames(page, "#live-player")
    expect(player).to_have_attribute("data-codec", "h264")
    expect(player).to_have_attribute("data-transcoded", "true")
    expect(player.locator(".player-codec")).to_have_text("H.265 → H.264 (chuyển mã)")


def test_h265_passthrough_when_the_browser_claims_h265(
    page: Page, sqlite_runtime: Runtime, simulator: Any
) -> None:
    (camera,) = register(
        sqlite_runtime, [{"name": "Bến phà", "stream_url": simulator.url("/h265")}]
    )
    page.add_init_script(CLAIM_HEVC)
    with page.expect_response(re.compile(r"/stream\?")) as answer:
        watch(page, camera["id"])
    assert "codecs=avc1%2Chvc1&" in answer.value.url
    stream = answer.value.json()
    assert (stream["codec"], stream["transcoded"]) == ("h265", False)
    player = page.locator("#live-player")
    expect(player).to_have_attribute("data-codec", "h265")
    expect(player).to_have_attribute("data-transcoded", "false")
    expect(player).to_have_attribute("data-path", "mse")
    # This Chromium cannot decode it after all: a clear error, not a spinner forever.
    expect(player).to_have_attribute("data-state", "error", timeout=20_000)
    expect(player).to_have_attribute("data-reason", "decode")
    expect(player.locator(".player-message")).to_contain_text(
        "Trình duyệt này không giải mã được hình H.265 của camera."
    )
    with page.expect_response(re.compile(r"/stream\?")) as again:
        player.get_by_role("button", name="Xem qua chuyển mã H.264").click()
    assert "codecs=avc1&" in again.value.url
    assert again.value.json()["transcoded"] is True
    expect(player).to_have_attribute("data-transcoded", "true")


def test_dead_camera_is_explained_in_words(
    page: Page, sqlite_runtime: Runtime, refusing: str
) -> None:
    (camera,) = register(sqlite_runtime, [{"name": "Trạm bơm", "stream_url": refusing}])
    watch(page, camera["id"])
    player = page.locator("#live-player")
    expect(player).to_have_attribute("data-state", "error", timeout=10_000)
    expect(player).to_have_attribute("data-reason", "refused")
    expect(player.locator(".player-text")).to_have_text(
        re.compile(r"^Camera mất tín hiệu từ \d\d:\d\d — bị từ chối kết nối$")
    )
    expect(player.locator(".player-retry")).to_have_text(
        re.compile(r"Vẫn đang thử kết nối|Tự thử lại sau \d+ giây")
    )
    expect(player.locator(".player-codec")).to_have_text("")  # never seen: codec unknown


@pytest.mark.parametrize("path", ["/h264", "/h265"])
def test_codec_string_read_in_the_browser_matches_the_gateway(
    page: Page, server: str, sqlite_runtime: Runtime, simulator: Any, path: str
) -> None:
    """The init segment the gateway sends, parsed by player.js and by gateway/fmp4.py."""
    (camera,) = register(sqlite_runtime, [{"name": "Mẫu", "stream_url": simulator.url(path)}])
    with TestClient(create_app(runtime=sqlite_runtime)) as client:
        headers = token_for(client, "operator")
        stream = client.get(
            f"/api/v1/cameras/{camera['id']}/stream?codecs=avc1,hvc1", headers=headers
        ).json()
    mse_url = stream["mse_url"].replace("ws://testserver", server.replace("http", "ws", 1))
    with connect(mse_url, open_timeout=10) as socket:
        init = socket.recv(timeout=20)
    assert isinstance(init, bytes)
    expected = parse_init(init)
    log_in(page, "operator")
    expect(page).to_have_url("/")
    parsed = page.evaluate(
        """async (bytes) => {
          const { codecOfInit, isInitSegment } = await import('/static/js/player.js');
          const data = new Uint8Array(bytes);
          return { init: isInitSegment(data), ...codecOfInit(data) };
        }""",
        list(init),
    )
    assert parsed == {
        "init": True,
        "codec": expected.codec,
        "codecString": expected.codec_string,
        "mime": f'video/mp4; codecs="{expected.codec_string}"',
    }
    assert parsed["codec"] == ("h264" if path == "/h264" else "h265")
