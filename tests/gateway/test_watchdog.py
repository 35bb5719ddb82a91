"""The event-loop watchdog: a stream whose handling holds the loop is named in a warning."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

import pytest

from dieuhanh.core.config import GatewaySettings
from dieuhanh.core.network import NetworkPolicy
from dieuhanh.gateway.fmp4 import Fragment, InitSegment
from dieuhanh.gateway.hub import Hub
from dieuhanh.gateway.rtsp_pull import RtspPull
from dieuhanh.gateway.service import Gateway, Pull, StreamKey
from dieuhanh.gateway.watchdog import LoopWatchdog
from dieuhanh.simulator import SimulatedCamera, SimulatorThread, run_simulator
from tests.conftest import TEST_CAMERA_NETWORKS
from tests.hostile import run_bounded

LOOPBACK_ALLOWED = NetworkPolicy.of(TEST_CAMERA_NETWORKS)

HELD_SECONDS = 0.3  # well over the 100 ms threshold, whatever the watchdog's phase


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorThread]:
    served = [SimulatedCamera("/h264", width=320, height=180, fps=10)]
    with run_simulator(served, cache_dir=tmp_path_factory.mktemp("watchdog-clips")) as sim:
        yield sim


async def _watch_a_slow_stream(url: str) -> tuple[LoopWatchdog, dict[str, object]]:
    def make_pull(key: StreamKey, hub: Hub, loop: asyncio.AbstractEventLoop) -> Pull:
        watchdog = gateway.watchdog
        return RtspPull(
            hub, lambda: (url, []), loop, timeout=5.0, watchdog=watchdog, policy=LOOPBACK_ALLOWED
        )

    gateway = Gateway(GatewaySettings(), make_pull)
    stream, _ = gateway.attach(StreamKey(7, "main", "copy"))
    warnings_before: list[int] = []

    def slow_listener(item: InitSegment | Fragment) -> None:
        # Test-only: a handler of this stream's bytes that holds the loop, once.
        if isinstance(item, Fragment) and not warnings_before:
            warnings_before.append(gateway.watchdog.warnings)
            time.sleep(HELD_SECONDS)

    stream.hub.listeners.append(slow_listener)
    for _ in range(300):
        if warnings_before and gateway.watchdog.warnings > warnings_before[0]:
            break
        await asyncio.sleep(0.05)
    stats = gateway.stats()
    await gateway.shutdown()
    return gateway.watchdog, stats


def test_a_stream_that_holds_the_loop_is_named(
    camera: SimulatorThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="dieuhanh.gateway.watchdog")
    watchdog, stats = run_bounded(_watch_a_slow_stream(camera.url("/h264")), bound=30)
    warnings = [r.getMessage() for r in caplog.records if r.name == "dieuhanh.gateway.watchdog"]
    assert any("longest stream handler: 7/main/copy" in message for message in warnings), warnings
    # Blocked HELD_SECONDS: the wake-up came at least that minus one interval late.
    assert watchdog.max_lag >= HELD_SECONDS - watchdog.interval
    assert isinstance(stats["loop_lag_max_ms"], int) and stats["loop_lag_max_ms"] >= 250


def test_a_late_wake_up_names_a_stream_only_when_it_held_the_loop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="dieuhanh.gateway.watchdog")
    watchdog = LoopWatchdog()
    watchdog.charge("1/main/copy", 0.002)
    watchdog.check(0.01)  # on time: nothing said, and the charge is spent
    watchdog.check(0.5)
    assert (watchdog.warnings, watchdog.blamed, watchdog.last_lag) == (1, None, 0.5)
    assert "no stream handler ran" in caplog.text
    watchdog.charge("1/main/copy", 0.002)
    watchdog.check(0.3)  # a stream ran, but briefly: not the one to blame
    assert (
        watchdog.blamed is None and "not by a stream handler (longest: 1/main/copy" in caplog.text
    )
    watchdog.charge("1/main/copy", 0.002)
    watchdog.charge("2/sub/copy", 0.4)
    watchdog.check(0.45)
    assert watchdog.blamed == "2/sub/copy" and "2/sub/copy (400 ms)" in caplog.text
