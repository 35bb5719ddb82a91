"""How long `dieuhanh demo` takes to answer its health check, on a first and a second run.

The issue's goal: under 10 s on a second run. Baseline, measured in the same run: the time for
Python to start and import the application (the floor no start-up can beat).

    .venv/bin/python bench/demo_startup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def time_to_healthy(data_dir: Path) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIEUHANH_")}
    env["DIEUHANH_ADMIN_PASSWORD"] = "bench-admin-password"
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dieuhanh",
            "demo",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1):
                    return time.perf_counter() - started
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError("demo exited") from None
                time.sleep(0.02)
    finally:
        process.terminate()
        process.wait(timeout=30)


def time_import() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import dieuhanh.app, dieuhanh.demo"], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    first, second, baseline = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            first.append(time_to_healthy(Path(folder)))
            second.append(time_to_healthy(Path(folder)))
        baseline.append(time_import())
    med = statistics.median
    print(f"runs: {runs}")
    print(f"baseline (python start + import app): median {med(baseline):.2f} s")
    print(
        f"first run  (schema, 3,355 units, boundaries): median {med(first):.2f} s "
        f"= {med(first) / med(baseline):.1f}x baseline"
    )
    print(
        f"second run (reuse): median {med(second):.2f} s "
        f"= {med(second) / med(baseline):.1f}x baseline (goal < 10 s)"
    )


if __name__ == "__main__":
    main()
