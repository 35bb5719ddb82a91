"""``python -m dieuhanh.simulator``: serve the sample cameras until interrupted."""

from __future__ import annotations

import argparse
import logging
import threading
from pathlib import Path

from dieuhanh.core.stopping import stop_on_signals
from dieuhanh.simulator.live_source import LiveSettings
from dieuhanh.simulator.runner import run_simulator
from dieuhanh.simulator.samples import sample_cameras


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve simulated RTSP cameras.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8554, help="0 picks a free port")
    parser.add_argument("--extra", type=int, default=0, help="more plain H.264 cameras")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where clips are kept")
    parser.add_argument(
        "--idle-timeout", type=float, default=60.0, help="seconds before an unused encoder stops"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    cameras = sample_cameras(args.extra)
    live = LiveSettings(idle_timeout=args.idle_timeout)
    # Its own SIGINT/SIGTERM handlers: started with SIGINT ignored (by a shell in the background)
    # it would otherwise never stop on Ctrl-C, and SIGTERM would skip closing the connections.
    # StopRequested leaves the block (closing the simulator) and exits with status 0.
    with (
        stop_on_signals(),
        run_simulator(
            cameras, args.host, args.port, cache_dir=args.cache_dir, live=live
        ) as simulator,
    ):
        for camera in cameras:
            print(simulator.url(camera.path))
        print("Ctrl-C to stop.", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
