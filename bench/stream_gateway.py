"""The stream gateway, measured side by side in one run.

* gateway CPU per passthrough stream, as a ratio to a bare `ffmpeg -c copy` of the same streams
  (Debian's ffmpeg, remuxing to fragmented MP4 on stdout, thrown away) — goal ≤ 1.2×;
* CPU and memory of the gateway with 100 viewers on one camera, and with 50 cameras watched;
* in headless Chromium, through the product's own player: time to the first presented frame, cold
  and warm, H.264 passthrough and H.265 → H.264 (goals: warm ≤ 0.5 s, cold ≤ GOP + 0.5 s), and the
  glass-to-glass delay (the wall-clock time the simulator burns into each picture, read back
  from the presented frame, against the browser's clock) — goal ≤ 1 s.

The cameras are our RTSP simulator in its own process (live encoders at a constant bitrate, 1 s
GOP: 640×360 sub-streams at 15 fps and 512 kbit/s, 1920×1080 main streams at 25 fps and
4 Mbit/s); the gateway is a `dieuhanh gateway` node in its own process, so its CPU is its own.

    .venv/bin/python bench/stream_gateway.py [--seconds 20] [--skip-browser]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx2 as httpx  # noqa: E402
from tests.browser import free_port, serving_app  # noqa: E402

from bench.browser_timing import browser_figures  # noqa: E402
from dieuhanh.app import create_app  # noqa: E402
from dieuhanh.capabilities import build_runtime  # noqa: E402
from dieuhanh.core.config import load_settings  # noqa: E402
from dieuhanh.core.db import migrate  # noqa: E402
from dieuhanh.core.passwords import Passwords  # noqa: E402

SECRET = "bench-gateway-secret"
KEY = "YmVuY2gta2V5LWZvci1kaWV1aGFuaC1iZW5jaC0zMmI="
PASSWORD = "bench-admin-password"
CAMERAS = 50
TICKS = os.sysconf("SC_CLK_TCK")


# Two kinds of camera stream, at the constant bitrates cameras send: what a grid tile pulls
# (sub-stream) and what a full-screen view pulls (main stream).
PROFILES = {
    "sub": {"width": 640, "height": 360, "fps": 15, "bitrate_kbps": 512},
    "main": {"width": 1920, "height": 1080, "fps": 25, "bitrate_kbps": 4000},
}
PASSTHROUGH_STREAMS = 20


def serve_cameras(queue: Any, stop: Any) -> None:
    from dieuhanh.simulator import SimulatedCamera, run_simulator

    # Sub-streams: CAMERAS for the server figures, three more unwatched until the browser's turn.
    counts = {"h264": CAMERAS + 3, "main": PASSTHROUGH_STREAMS, "h265": 4}
    mounts = [SimulatedCamera(f"/h264/{n}", **PROFILES["sub"]) for n in range(counts["h264"])]
    mounts += [SimulatedCamera(f"/main/{n}", **PROFILES["main"]) for n in range(counts["main"])]
    mounts += [SimulatedCamera(f"/h265/{n}", codec="h265", **PROFILES["sub"])
               for n in range(counts["h265"])]  # fmt: skip
    with run_simulator(mounts) as sim:
        queue.put({kind: [sim.url(f"/{kind}/{n}") for n in range(count)]
                   for kind, count in counts.items()})  # fmt: skip
        stop.wait()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def gateway_node(database_url: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIEUHANH_")}
    env.update(DIEUHANH_DATABASE_URL=database_url, DIEUHANH_GATEWAY__SECRET=SECRET,
               DIEUHANH_CAMERAS__CREDENTIAL_KEYS=f'["{KEY}"]', DIEUHANH_LOG_LEVEL="WARNING",
               DIEUHANH_CAMERAS__ALLOWED_NETWORKS='["127.0.0.0/8"]',  # the simulated cameras
               DIEUHANH_GATEWAY__IDLE_SECONDS="600",
               DIEUHANH_GATEWAY__HEARTBEAT_SECONDS="1")  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "dieuhanh", "gateway", "--host", "127.0.0.1", "--port", str(port),
         "--node-id", "bench", "--public-url", url], env=env,
    )  # fmt: skip
    try:
        while True:
            try:
                if httpx.get(f"{url}/gw/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield process, url
    finally:
        process.terminate()
        process.wait(timeout=20)


async def watch(urls: list[str], seconds: float, counter: list[int]) -> None:
    """Viewers that read and discard, adding what they receive to ``counter[0]``."""
    from websockets.asyncio.client import connect

    async def one(url: str) -> None:
        async with connect(url, max_size=None, open_timeout=30) as socket:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                message = await asyncio.wait_for(socket.recv(), 30)
                counter[0] += len(message)  # not `+= len(await …)`: that loses others' adds

    await asyncio.gather(*(one(url) for url in urls))


def measure(
    pid: int, seconds: float, urls: list[str], settle: float = 3.0
) -> tuple[float, float, float]:
    """(CPU % of one core, RSS MB, MB/s received) of ``pid`` while ``urls`` are watched."""
    counter = [0]
    window: dict[str, float] = {}

    async def run() -> None:
        watchers = asyncio.create_task(watch(urls, settle + seconds, counter))
        await asyncio.sleep(settle)  # connections made, pulls running
        window.update(cpu=cpu_seconds(pid), at=time.monotonic(), received=counter[0])
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - window["at"]
        window.update(cpu=(cpu_seconds(pid) - window["cpu"]) / elapsed * 100, rss=rss_mb(pid),
                      rate=(counter[0] - window["received"]) / elapsed / 1e6)  # fmt: skip
        await watchers

    asyncio.run(run())
    return window["cpu"], window["rss"], window["rate"]


def ffmpeg_copy(urls: list[str], seconds: float) -> float:
    """CPU % of one core of bare `ffmpeg -c copy` remuxes of ``urls`` to fragmented MP4."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("Debian's ffmpeg is needed for the baseline (scripts/install --test)")
    processes = [subprocess.Popen(
        [ffmpeg, "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url, "-an", "-c", "copy",
         "-f", "mp4", "-movflags", "frag_every_frame+empty_moov+default_base_moof", "pipe:1"],
        stdout=subprocess.DEVNULL) for url in urls]  # fmt: skip
    try:
        time.sleep(3)
        before = sum(cpu_seconds(p.pid) for p in processes)
        started = time.monotonic()
        time.sleep(seconds)
        return (
            (sum(cpu_seconds(p.pid) for p in processes) - before)
            / (time.monotonic() - started)
            * 100
        )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    queue, stop = context.Queue(), context.Event()
    cameras = context.Process(target=serve_cameras, args=(queue, stop), daemon=True)
    cameras.start()
    urls = queue.get(timeout=120)
    try:
        with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
            database_url = f"sqlite:///{folder}/bench.db"
            runtime = build_runtime(load_settings(
                data_dir=Path(folder), database_url=database_url, admin_password=PASSWORD,
                cameras={"credential_keys": [KEY], "allowed_networks": ["127.0.0.0/8"]},
                # Long-lived URLs: fifty are issued (each first probes its camera) before use.
                gateway={"secret": SECRET, "embedded": False, "heartbeat_seconds": 1,
                         "token_seconds": 600},
            ), passwords=Passwords(min_length=12))  # fmt: skip
            from dieuhanh.bootstrap import setup

            setup(runtime)
            migrate.upgrade(runtime.engine)
            node, _ = stack.enter_context(gateway_node(database_url))
            base = stack.enter_context(serving_app(create_app(runtime=runtime)))
            client = stack.enter_context(httpx.Client(base_url=base, timeout=60))
            token = client.post(
                "/api/v1/auth/token", json={"username": "admin", "password": PASSWORD}
            )
            client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            ids = {kind: [register(client, url) for url in found] for kind, found in urls.items()}
            server_figures(client, node.pid, ids, urls, args.seconds)
            if not args.skip_browser:
                browser_figures(base, ids, PASSWORD)
    finally:
        stop.set()
        cameras.join(timeout=30)


def register(client: httpx.Client, url: str) -> int:
    name = "-".join(url.rsplit("/", 2)[-2:])
    response = client.post(
        "/api/v1/cameras", json={"name": name, "unit_code": "25280", "stream_url": url}
    )
    response.raise_for_status()
    return int(response.json()["id"])


def mse(client: httpx.Client, camera_id: int, codecs: str = "avc1") -> str:
    response = client.get(f"/api/v1/cameras/{camera_id}/stream", params={"codecs": codecs})
    if response.status_code != 200:
        raise SystemExit(f"camera {camera_id}: {response.status_code} {response.text}")
    return str(response.json()["mse_url"])


def server_figures(client: httpx.Client, pid: int, ids: dict[str, list[int]],
                   urls: dict[str, list[str]], seconds: float) -> None:  # fmt: skip
    count = PASSTHROUGH_STREAMS
    print(f"passthrough, {count} cameras, one viewer each, gateway vs bare `ffmpeg -c copy`:")
    for kind, profile in (("h264", PROFILES["sub"]), ("main", PROFILES["main"])):
        gateway_cpu, _, rate = measure(pid, seconds, [mse(client, i) for i in ids[kind][:count]])
        ffmpeg_cpu = ffmpeg_copy(urls[kind][:count], seconds)
        print(
            f"  {profile['width']}x{profile['height']}@{profile['fps']} H.264 "
            f"{profile['bitrate_kbps']} kbit/s: gateway {gateway_cpu / count:.3f}% of a core per "
            f"stream ({rate * 8 / count:.2f} Mbit/s delivered each), ffmpeg "
            f"{ffmpeg_cpu / count:.3f}%; ratio {gateway_cpu / ffmpeg_cpu:.2f}x (goal ≤ 1.2x)"
        )
    sub = f"{PROFILES['sub']['width']}x{PROFILES['sub']['height']} sub-streams"
    one = ids["h264"][count]
    cpu, rss, rate = measure(pid, seconds, [mse(client, one) for _ in range(100)])
    print(f"100 viewers on one camera ({sub}): gateway {cpu:.1f}% of a core, {rss:.0f} MB RSS, "
          f"{rate * 8:.1f} Mbit/s sent")  # fmt: skip
    cpu, rss, rate = measure(pid, seconds, [mse(client, i) for i in ids["h264"][:CAMERAS]])
    print(f"{CAMERAS} cameras watched, one viewer each ({sub}): gateway {cpu:.1f}% of a core, "
          f"{rss:.0f} MB RSS, {rate * 8:.1f} Mbit/s sent")  # fmt: skip
    cpu, _, _ = measure(pid, seconds, [mse(client, i) for i in ids["h265"][:2]])
    workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                                              text=True).stdout.split()]  # fmt: skip
    print(
        f"2 transcodes H.265 -> H.264 ({sub}): gateway {cpu:.1f}% of a core, plus "
        f"{len(workers)} worker processes, {sum(rss_mb(w) for w in workers):.0f} MB RSS in all"
    )


if __name__ == "__main__":
    main()
