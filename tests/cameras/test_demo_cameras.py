"""The demo's simulated cameras start even when the preferred RTSP port is taken."""

from __future__ import annotations

import socket
from pathlib import Path

from dieuhanh.cameras import demo as camera_demo


def test_the_demo_falls_back_to_a_free_port_when_8554_is_taken(tmp_path: Path) -> None:
    # Someone else's RTSP server (MediaMTX, go2rtc) listening on the port the demo prefers.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        running = camera_demo.start(tmp_path, port=port)
        try:
            assert running.simulator.port not in (0, port)
            with socket.create_connection(("127.0.0.1", running.simulator.port), timeout=5):
                pass
        finally:
            running.stop()
