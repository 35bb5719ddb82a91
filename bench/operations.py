"""The operations view at a province's scale (issue #13, item 9): 1,000 cameras, 5,000 open
citizen reports, 200 open alerts (plus 113 units' directives and 40 sensors).

Per database: each layer API's time (median of 5) and size, against the boundaries API every
map page loads, measured in the same run. In headless Chromium: the time to the first draw of
all layers and the attention panel, against the same page with every layer switched off (the
boundaries only); and a layer's re-fetch + redraw (the 5,000 reports), against a bare Leaflet
drawing the same number of circle markers on the same canvas.

    .venv/bin/python bench/operations.py [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from tests.browser import CHROMIUM, CHROMIUM_ARGS, serving
from tests.operations import seed
from throwaway import database_url  # bench/throwaway.py, beside this script

from dieuhanh import demo
from dieuhanh.auth.service import create_user
from dieuhanh.bootstrap import setup
from dieuhanh.capabilities import build_runtime
from dieuhanh.core.config import load_settings
from dieuhanh.core.runtime import Runtime

DATABASE = "dieuhanh_bench_operations"
PASSWORD = "mật-khẩu-bench-operations-1"
LAYERS = ("alerts", "cameras", "reports", "sensors", "directives")


def say(message: str) -> None:
    print(message, flush=True)


def make_runtime(url: str, folder: Path) -> Runtime:
    settings = load_settings(
        database_url=url, data_dir=folder, admin_password=PASSWORD,
        cameras={"credential_keys": ["dGVzdC1rZXktZm9yLWRpZXVoYW5oLXRlc3RzLTMyYmI="]},
    )  # fmt: skip
    runtime = build_runtime(settings)
    setup(runtime)
    demo.ensure_boundaries(runtime)
    with runtime.sessions() as session:
        where = seed.places(session)
        seed.cameras(session, where, 1000, random.Random(1))
        seed.reports(session, where, 5000, random.Random(2))
        seed.alerts(session, where, 200)
        seed.sensor_readings(session, where, devices=40, per_device=24)
        for n in range(0, len(where), 2):
            seed.directive(session, where[0].unit_id, where[n : n + 2],
                           ["sent", "in_progress"][: len(where[n : n + 2])], f"CD-B-{n}",
                           late=n % 6 == 0)  # fmt: skip
        create_user(session, runtime.passwords, "bench", PASSWORD, "province_operator", "75")
        session.commit()
    return runtime


def fetch(url: str, token: str) -> tuple[float, int]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as answer:
        size = len(answer.read())
    return time.perf_counter() - started, size


def median_fetch(url: str, token: str) -> tuple[float, int]:
    runs = [fetch(url, token) for _ in range(5)]
    return statistics.median(t for t, _ in runs), runs[0][1]


def api_figures(base: str) -> None:
    body = json.dumps({"username": "bench", "password": PASSWORD}).encode()
    login = urllib.request.Request(f"{base}/api/v1/auth/token", data=body,
                                   headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(login, timeout=30) as answer:
        token = json.loads(answer.read())["access_token"]
    floor, floor_size = median_fetch(f"{base}/api/v1/boundaries?parent=75", token)
    say(f"  boundaries API (baseline)    {floor * 1000:7.1f} ms {floor_size / 1024:8.1f} KiB")
    for code in LAYERS:
        took, size = median_fetch(f"{base}/api/v1/operations/layers/{code}", token)
        say(f"  layer {code:11}            {took * 1000:7.1f} ms {size / 1024:8.1f} KiB"
            f"   {took / floor:5.2f}× the boundaries")  # fmt: skip
    took, size = median_fetch(f"{base}/api/v1/operations/attention?limit=50", token)
    say(f"  attention list               {took * 1000:7.1f} ms {size / 1024:8.1f} KiB"
        f"   {took / floor:5.2f}× the boundaries")  # fmt: skip


ALL_DRAWN = """() => document.getElementById('ops-map').dataset.ready === 'true'
  && [...document.querySelectorAll('#ops-layers li')].every(
       (li) => !li.querySelector('input').checked || li.dataset.drawn !== '0')
  && document.querySelector('#ops-attention li') !== null"""
SINCE_NAVIGATION = (
    "performance.now() - (performance.timing.navigationStart - performance.timeOrigin)"
)
REFRESH = """async () => {
  const ops = window.dieuhanhOperations;
  const started = performance.now();
  await ops.refresh('reports');
  await new Promise(requestAnimationFrame);
  return performance.now() - started;
}"""
BARE = """async () => {
  const ops = window.dieuhanhOperations;
  const rows = ops.layers.get('reports').data.rows;
  const started = performance.now();
  const group = L.layerGroup();
  for (const row of rows) {
    if (row[1] === null) continue;
    group.addLayer(L.circleMarker([row[1], row[2]], { renderer: ops.renderer, radius: 6 }));
  }
  group.addTo(ops.map);
  await new Promise(requestAnimationFrame);
  const took = performance.now() - started;
  group.remove();
  return took;
}"""


def first_draw(page: Page, layers_on: bool) -> float:
    on = dict.fromkeys(LAYERS, layers_on)
    page.evaluate(
        f"localStorage.setItem('dieuhanh.operations.v1', JSON.stringify({{on: {json.dumps(on)}}}))"
    )
    page.goto("/operations")
    ready = (
        ALL_DRAWN
        if layers_on
        else "() => document.getElementById('ops-map').dataset.ready === 'true'"
    )
    page.wait_for_function(ready, timeout=60_000)
    return float(page.evaluate(SINCE_NAVIGATION))


def browser_figures(base: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(
            base_url=base, viewport={"width": 1920, "height": 1080}
        ).new_page()
        page.goto("/login")
        page.fill("input[name=username]", "bench")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        page.goto("/operations")
        bare_page = statistics.median(first_draw(page, False) for _ in range(3))
        full_page = statistics.median(first_draw(page, True) for _ in range(3))
        say(f"  first draw, boundaries only (baseline) {bare_page:7.0f} ms")
        say(f"  first draw, every layer + attention    {full_page:7.0f} ms   "
            f"{full_page / bare_page:5.2f}× the baseline")  # fmt: skip
        refresh = statistics.median(page.evaluate(REFRESH) for _ in range(5))
        bare = statistics.median(page.evaluate(BARE) for _ in range(5))
        say(f"  bare Leaflet, same circle markers (baseline) {bare:7.0f} ms")
        say(f"  re-fetch + redraw of the reports layer   {refresh:7.0f} ms   "
            f"{refresh / bare:5.2f}× the baseline")  # fmt: skip
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runtime = make_runtime(database_url(args.backend, Path(folder), DATABASE), Path(folder))
        say(f"operations view, {args.backend}: 1,000 cameras, 5,000 open reports, 200 alerts")
        try:
            with serving(runtime) as base:
                api_figures(base)
                browser_figures(base)
        finally:
            runtime.close()


if __name__ == "__main__":
    main()
