"""``dieuhanh worker`` killed (SIGKILL) in the middle of a camera probe, then started again: the
job runs again and its outcome is right, and recorded once.

Kept at the level of what anyone can observe — the cameras' states and history in the database
and the processes' exit codes — so that it holds however job state is kept.

The probe is made slow deterministically: one camera hangs (accepts, never answers), so a probe
of it lasts its whole timeout, and the worker is killed once that camera has a connection.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from dieuhanh.app import create_app
from dieuhanh.cameras.models import CameraStateChange, CameraStatus
from dieuhanh.core.runtime import Runtime
from dieuhanh.simulator import SimulatorThread
from dieuhanh.simulator.runner import ServiceThread
from tests.conftest import CREDENTIAL_KEY, LOC_THANH, TEST_CAMERA_NETWORKS, token_for
from tests.processes import reaped, stop

pytestmark = pytest.mark.slow
MONITOR = {"timeout_seconds": 2, "read_seconds": 0.5, "confirm_failures": 1}


def worker_environment(database_url: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIEUHANH_")}
    monitor = {f"DIEUHANH_CAMERAS__MONITOR__{k.upper()}": str(v) for k, v in MONITOR.items()}
    return {
        **clean,
        **monitor,
        "DIEUHANH_DATABASE_URL": database_url,
        "DIEUHANH_CAMERAS__CREDENTIAL_KEYS": f'["{CREDENTIAL_KEY}"]',
        "DIEUHANH_CAMERAS__ALLOWED_NETWORKS": json.dumps(TEST_CAMERA_NETWORKS),
    }


def start_worker(database_url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "dieuhanh", "worker"],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=worker_environment(database_url),
        )


def wait_until(condition: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout:g} s; log:\n" + log.read_text()
        time.sleep(0.05)


def states(runtime: Runtime) -> dict[int, tuple[str, str | None]]:
    with runtime.sessions() as session:
        return {s.camera_id: (s.state, s.reason) for s in session.scalars(select(CameraStatus))}


def test_a_worker_killed_mid_probe_probes_again_after_a_restart(
    database_url: str,
    make_runtime: Callable[..., Runtime],
    healthy: SimulatorThread,
    hanging: ServiceThread,
    tmp_path: Path,
) -> None:
    runtime = make_runtime(database_url, cameras={"credential_keys": [CREDENTIAL_KEY],
                                                  "monitor": MONITOR})  # fmt: skip
    with TestClient(create_app(runtime=runtime)) as client:
        headers = token_for(client, "admin")
        ids = {}
        for name, url in (("hangs", hanging.url("/stream")), ("healthy", healthy.url("/healthy"))):
            response = client.post("/api/v1/cameras", headers=headers, json={
                "name": name, "unit_code": LOC_THANH, "stream_url": url})  # fmt: skip
            assert response.status_code == 201, response.text
            ids[name] = response.json()["id"]
    server = hanging.service
    log = tmp_path / "worker.log"

    with reaped(start_worker(database_url, log)) as first:
        wait_until(lambda: server.connection_count > 0, 60, "no probe of the hanging camera", log)
        first.kill()  # in the middle of the probe: no clean-up code runs
        assert first.wait(10) == -signal.SIGKILL

    # The dead worker's claim (a lease, so that two workers never probe one camera) would keep
    # the cameras for its length (over a minute); the test lets it run out now rather than wait.
    with runtime.sessions() as session:
        session.execute(update(CameraStatus).values(lease_until=None))
        session.commit()

    with reaped(start_worker(database_url, log)) as second:
        probed = lambda: all(states(runtime)[i][0] != "unknown" for i in ids.values())  # noqa: E731
        wait_until(probed, 60, "the restarted worker did not probe both cameras", log)
        assert stop(second, signal.SIGTERM, timeout=30) == 0

    assert states(runtime) == {ids["hangs"]: ("dead", "timeout"), ids["healthy"]: ("live", None)}
    with runtime.sessions() as session:  # each change recorded once, the lost round not at all
        changes = session.execute(select(CameraStateChange.camera_id, CameraStateChange.state))
        assert sorted(tuple(row) for row in changes) == sorted(
            [(ids["hangs"], "dead"), (ids["healthy"], "live")]
        )
