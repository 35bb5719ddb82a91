"""Playback timing in headless Chromium, through the product's own live page and player.

First presented frame: from the start of navigation to the page `/cameras/{id}/live` to the first
`requestVideoFrameCallback` — what an operator waits after clicking a camera. Cold: nobody was
watching that camera; warm: someone was (the gateway has it and its last group of pictures).

Glass-to-glass: the simulator burns the wall-clock time (ms) into each picture as a code of
black and white cells (``dieuhanh.simulator.clock_code``); the browser reads it back from
each presented frame and compares it with the time the frame was shown.
"""

from __future__ import annotations

import statistics

from playwright.sync_api import Page, sync_playwright
from tests.browser import CHROMIUM, CHROMIUM_ARGS

FIRST_FRAME_HOOK = """
window.__firstFrameAt = null;
const hook = () => {
  for (const video of document.querySelectorAll('video')) {
    if (video.__hooked) continue;
    video.__hooked = true;
    video.requestVideoFrameCallback(() => {
      if (window.__firstFrameAt === null) window.__firstFrameAt = performance.now();
    });
  }
};
new MutationObserver(hook).observe(document, { subtree: true, childList: true });
"""

GLASS_TO_GLASS = """
async (samples) => {
  const video = document.querySelector('video');
  const canvas = document.createElement('canvas');
  const delays = [];
  return await new Promise((resolve) => {
    const step = (now, meta) => {
      const width = video.videoWidth, cell = width / 16;
      canvas.width = width; canvas.height = video.videoHeight;
      const context = canvas.getContext('2d', { willReadFrequently: true });
      context.drawImage(video, 0, 0);
      const pixels = context.getImageData(0, 0, width, Math.ceil(cell * 4)).data;
      const bit = (index) => {
        const x = Math.floor(((index % 16) + 0.5) * cell);
        const y = Math.floor((Math.floor(index / 16) + 0.5) * cell);
        const offset = (y * width + x) * 4;
        return (pixels[offset] + pixels[offset + 1] + pixels[offset + 2]) / 3 >= 128 ? 1 : 0;
      };
      let synced = true;
      for (let i = 0; i < 16; i++) if (bit(48 + i) !== (i % 2 === 0 ? 1 : 0)) synced = false;
      if (synced) {
        let millis = 0;
        for (let i = 0; i < 48; i++) millis = millis * 2 + bit(i);
        delays.push(performance.timeOrigin + meta.expectedDisplayTime - millis);
      }
      if (delays.length >= samples) resolve(delays); else video.requestVideoFrameCallback(step);
    };
    video.requestVideoFrameCallback(step);
  });
}
"""


def first_frame_seconds(page: Page, url: str) -> float:
    page.goto(url)
    page.wait_for_function("() => window.__firstFrameAt !== null", timeout=30_000)
    started = page.evaluate("performance.timing.navigationStart - performance.timeOrigin")
    return float(page.evaluate("window.__firstFrameAt") - started) / 1000


def browser_figures(base: str, ids: dict[str, list[int]], password: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base)
        context.add_init_script(FIRST_FRAME_HOOK)
        login = context.new_page()
        login.goto("/login")
        login.fill("input[name=username]", "admin")
        login.fill("input[name=password]", password)
        login.click("button[type=submit]")
        login.wait_for_url("**/")
        rows: list[tuple[str, float, float, float]] = []
        # Cameras nobody has watched yet, so that the first view is cold.
        fresh = (("H.264 passthrough", ids["h264"][-3:]), ("H.265 -> H.264", ids["h265"][2:4]))
        for label, pool in fresh:
            colds, warms, glass = [], [], []
            for camera_id in pool:
                first = context.new_page()
                colds.append(first_frame_seconds(first, f"/cameras/{camera_id}/live"))
                second = context.new_page()
                warms.append(first_frame_seconds(second, f"/cameras/{camera_id}/live"))
                delays = first.evaluate(GLASS_TO_GLASS, 45)
                glass.append(statistics.median(delays) / 1000)
                first.close()
                second.close()
            rows.append((label, statistics.median(colds), statistics.median(warms),
                         statistics.median(glass)))  # fmt: skip
        browser.close()
    print("headless Chromium, through /cameras/{id}/live (page load + API + stream), medians:")
    for label, cold, warm, glass in rows:
        print(
            f"  {label}: first frame cold {cold:.2f} s (goal ≤ 1 s GOP + 0.5 s), "
            f"warm {warm:.2f} s (goal ≤ 0.5 s); glass-to-glass {glass:.2f} s (goal ≤ 1 s)"
        )
