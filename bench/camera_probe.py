"""Classifying 1,000 camera streams: how long, how much CPU, how close to the lower bound.

One quarter of the streams are live, spread over a few real RTSP servers (our simulator, twice,
and GStreamer's when it is installed); the rest are dead in mixed ways, a third of them hanging
(the server accepts the connection and never answers). The servers run in another process, so
the CPU figures are the monitor's own.

The lower bound, computed in the same run: hanging ÷ concurrency × timeout — the hanging streams
alone keep every worker busy that long. Goals: within 1.5× of it, and under 30 s with a 5 s
timeout. Also printed: CPU per live stream per probe cycle.

    .venv/bin/python bench/camera_probe.py [--streams 1000] [--concurrency 100] [--timeout 5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.cameras.servers (GStreamer's server)

from dieuhanh.cameras.models import CameraStatus  # noqa: E402
from dieuhanh.cameras.monitor import HealthMonitor  # noqa: E402
from dieuhanh.cameras.service import Registry, create_camera  # noqa: E402
from dieuhanh.capabilities import build_runtime  # noqa: E402
from dieuhanh.core.access import Principal  # noqa: E402
from dieuhanh.core.config import load_settings  # noqa: E402
from dieuhanh.core.db import migrate  # noqa: E402
from dieuhanh.units.catalog import load_reference  # noqa: E402

USER, PASSWORD = "admin", "bench-123"


def serve(queue: Any, stop: Any) -> None:
    """Child process: the simulators, the fault servers and (if present) GStreamer's server."""
    from contextlib import ExitStack

    from dieuhanh.simulator import (
        GarbageServer,
        HangServer,
        SimulatedCamera,
        refused_port,
        run_service,
        run_simulator,
    )

    mounts = [
        SimulatedCamera("/h264", width=320, height=180, fps=10),
        SimulatedCamera("/h265", codec="h265", width=320, height=180, fps=10),
        SimulatedCamera("/secure", width=320, height=180, fps=10, username=USER, password=PASSWORD),
        SimulatedCamera("/audio-only", audio="pcmu", audio_only=True),
        SimulatedCamera("/private", proprietary_video=True),
    ]
    with ExitStack() as stack:
        sims = [stack.enter_context(run_simulator(mounts)) for _ in range(2)]
        hang = stack.enter_context(run_service(HangServer()))
        garbage = stack.enter_context(run_service(GarbageServer()))
        live = [s.url(p) for s in sims for p in ("/h264", "/h265", "/secure")]
        gst = ""
        try:
            from tests.cameras.servers import gst_rtsp_server, gstreamer_available

            if gstreamer_available()[0]:
                server = stack.enter_context(gst_rtsp_server(width=320, height=180, fps=10))
                live += [server.url("/h264"), server.url("/h265")]
                gst = "GStreamer + "
        except ImportError:
            pass
        queue.put({
            "live": live,
            "servers": f"{gst}2 simulators",
            "dead": {
                "unauthorized": sims[0].url("/secure").replace(PASSWORD, "wrong-pw"),
                "not_found": sims[1].url("/no-such-channel"),
                "refused": f"rtsp://127.0.0.1:{refused_port()}/stream",
                "protocol_error": garbage.url("/stream"),
                "dns": "rtsp://camera-bench.invalid:554/stream",
                "no_video": sims[0].url("/audio-only"),
                "unsupported_codec": sims[1].url("/private"),
            },
            "hang": hang.url("/stream"),
        })  # fmt: skip
        stop.wait()


def build_cameras(urls: dict[str, Any], streams: int) -> tuple[list[tuple[str, str]], int]:
    """(url, expected reason or 'live') for every stream: ¼ live, ¾ dead of which ⅓ hanging."""
    live_count = streams // 4
    dead_count = streams - live_count
    hanging = dead_count // 3
    cameras = [(urls["live"][i % len(urls["live"])], "live") for i in range(live_count)]
    cameras += [(urls["hang"], "timeout")] * hanging
    kinds = list(urls["dead"].items())
    for i in range(dead_count - hanging):
        reason, url = kinds[i % len(kinds)]
        cameras.append((url, reason))
    # A province's list is not sorted by failure: register them in a mixed (fixed) order.
    random.Random(2026).shuffle(cameras)
    return cameras, hanging


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    queue, stop = context.Queue(), context.Event()
    child = context.Process(target=serve, args=(queue, stop), daemon=True)
    child.start()
    urls = queue.get(timeout=120)
    try:
        run(urls, args)
    finally:
        stop.set()
        child.join(timeout=30)


def run(urls: dict[str, Any], args: argparse.Namespace) -> None:
    cameras, hanging = build_cameras(urls, args.streams)
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            data_dir=Path(folder),
            cameras={"allowed_networks": ["127.0.0.0/8"],  # the simulated cameras
                     "monitor": {"concurrency": args.concurrency, "timeout_seconds": args.timeout,
                                 "read_seconds": 1.0, "confirm_failures": 1,
                                 "picture_interval_seconds": 86_400}},
        )  # fmt: skip
        runtime = build_runtime(settings)
        migrate.upgrade(runtime.engine)
        admin = Principal.system("bench", "75")
        registry = Registry(runtime.credentials, runtime.settings.cameras)
        with runtime.sessions() as session:
            load_reference(session)
            for number, (url, _) in enumerate(cameras):
                create_camera(
                    session,
                    registry,
                    admin,
                    {"name": f"cam {number}", "unit_code": "26368", "stream_url": url},
                )
            session.commit()
        monitor = HealthMonitor(runtime)
        # Every stream gets its first (picture) check out of the way: the timed rounds are the
        # steady state, packets only.
        cpu_before, started = cpu_seconds(), time.perf_counter()
        report = monitor.run_round()
        elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
        correct = verify(runtime, cameras)
        bound = hanging / args.concurrency * args.timeout
        print(
            f"streams: {len(cameras)} ({args.streams // 4} live over {urls['servers']}; "
            f"{hanging} hanging; concurrency {args.concurrency}; timeout {args.timeout:g} s)"
        )
        print(
            f"classified: {report.probed}, correct: {correct}/{len(cameras)}, "
            f"reasons: {dict(sorted(report.reasons.items()))}"
        )
        print(
            f"wall time: {elapsed:.1f} s; lower bound {bound:.1f} s; "
            f"ratio {elapsed / bound:.2f}x (goal ≤ 1.5x, < 30 s)"
        )
        print(f"of which choosing the due cameras (database): {report.claim_seconds:.1f} s")
        print(f"monitor CPU: {cpu:.1f} s ({cpu / elapsed * 100:.0f}% of one core during the round)")
        live_cycle(runtime, monitor, args.streams // 4)
        again(runtime, monitor, bound)


def live_cycle(runtime: Any, monitor: HealthMonitor, live: int) -> None:
    """A probe cycle of the live streams alone: the steady-state cost per stream."""
    with runtime.sessions() as session:
        session.execute(
            update(CameraStatus).where(CameraStatus.state == "live").values(next_probe_at=None)
        )
        session.commit()
    cpu_before, started = cpu_seconds(), time.perf_counter()
    report = monitor.run_round()
    elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
    print(
        f"live cycle: {report.probed} live streams in {elapsed:.1f} s, CPU {cpu:.2f} s = "
        f"{cpu / max(report.probed, 1) * 1000:.1f} ms CPU per live stream per probe "
        f"(1 s of packets read, nothing decoded)"
    )


def again(runtime: Any, monitor: HealthMonitor, bound: float) -> None:
    """All 1,000 once more, now that each one's probe time is known (longest first)."""
    with runtime.sessions() as session:
        session.execute(update(CameraStatus).values(next_probe_at=None))
        session.commit()
    started = time.perf_counter()
    report = monitor.run_round()
    elapsed = time.perf_counter() - started
    print(
        f"second full round (history known): {report.probed} in {elapsed:.1f} s = "
        f"{elapsed / bound:.2f}x the lower bound"
    )
    durations(runtime)


def durations(runtime: Any) -> None:
    from sqlalchemy import func, select

    with runtime.sessions() as session:
        rows = session.execute(
            select(
                CameraStatus.reason,
                func.avg(CameraStatus.probe_seconds),
                func.max(CameraStatus.probe_seconds),
            ).group_by(CameraStatus.reason)
        ).all()
    print(
        "  probe seconds (mean, max) by reason:",
        {str(r): (round(a, 2), round(m, 2)) for r, a, m in rows},
    )


def verify(runtime: Any, cameras: list[tuple[str, str]]) -> int:
    from sqlalchemy import select

    from dieuhanh.cameras.models import Camera

    correct = 0
    durations: dict[str, list[float]] = {}
    with runtime.sessions() as session:
        for camera in session.scalars(select(Camera).order_by(Camera.id)):
            expected = cameras[int(camera.name.split()[1])][1]
            status = camera.status
            got = "live" if status.state == "live" else status.reason
            correct += got == expected
            durations.setdefault(got or "?", []).append(status.probe_seconds or 0.0)
    mean = {k: round(sum(v) / len(v), 2) for k, v in sorted(durations.items())}
    print(f"mean probe seconds by verdict: {mean}")
    return correct


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
