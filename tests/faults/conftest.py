"""Real servers for the fault suite: a simulator with healthy cameras, a camera that hangs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dieuhanh.cameras.simulator import (
    HangServer,
    SimulatedCamera,
    SimulatorThread,
    run_service,
    run_simulator,
)
from dieuhanh.cameras.simulator.runner import ServiceThread

HEALTHY = [SimulatedCamera("/healthy", width=320, height=180, fps=15, gop=8)]


@pytest.fixture(scope="session")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorThread]:
    with run_simulator(HEALTHY, cache_dir=tmp_path_factory.mktemp("fault-clips")) as simulator:
        yield simulator


@pytest.fixture
def hanging() -> Iterator[ServiceThread]:
    """Accepts connections and never answers: a probe of it lasts its whole timeout."""
    with run_service(HangServer()) as service:
        yield service
