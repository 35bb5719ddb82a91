"""The disk fills up under what the cameras write: nothing good is replaced by something broken,
the error names the cause, and everything works again once there is space.

A REAL full disk: a small tmpfs mounted for the test (the suite runs as root here, which mount
needs) and filled to the last byte, so writes fail with ENOSPC from the kernel as they would on a
full volume. RLIMIT_FSIZE was the fallback considered, but it fails writes with EFBIG (and
SIGXFSZ), not ENOSPC, and would not reach SQLite's own write path the same way.

What the cameras write to disk: the embedded deployment's key files (camera credentials, the
gateway's stream secret) and its SQLite database — camera states and history, and the
``camera_snapshots`` table the snapshot route reads. PostgreSQL's disk cannot be filled from a
test, so the database half runs on SQLite only.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from dieuhanh.app import create_app
from dieuhanh.cameras.models import CameraStatus
from dieuhanh.cameras.monitor import HealthMonitor
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.secrets import load_or_create_key_file
from dieuhanh.simulator import SimulatorThread
from tests.conftest import CREDENTIAL_KEY, LOC_THANH, BackendPool, SqliteBackend, token_for

CHUNK = 64 * 1024


@contextmanager
def small_disk(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.fail(f"this test mounts a small tmpfs and needs root: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


def fill(disk: Path) -> Path:
    """Writes a file until the disk is full; removing it frees the space again."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        size = CHUNK
        while size >= 1:  # the last bytes too: smaller writes until not one more byte fits
            try:
                handle.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                size //= 2
    return filler


def test_a_key_file_is_never_left_empty_by_a_full_disk(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "64k") as disk:
        filler = fill(disk)
        with pytest.raises(OSError) as raised:
            load_or_create_key_file(disk)
        assert raised.value.errno == errno.ENOSPC  # "No space left on device"
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]  # nothing half written
        filler.unlink()
        key = load_or_create_key_file(disk)
        Fernet(key)  # a whole, valid key
        assert load_or_create_key_file(disk) == key


@pytest.fixture
def runtime_on_small_disk(
    tmp_path: Path, backend_pool: BackendPool, make_runtime: Callable[..., Runtime]
) -> Iterator[tuple[Runtime, Path]]:
    backend = backend_pool.get("sqlite")
    assert isinstance(backend, SqliteBackend)
    room = backend.template.stat().st_size * 2 + 16 * 1024 * 1024  # the database and its WAL
    with small_disk(tmp_path / "disk", str(room)) as disk:
        shutil.copyfile(backend.template, disk / "dieuhanh.db")
        runtime = make_runtime(
            f"sqlite:///{disk / 'dieuhanh.db'}",
            cameras={"credential_keys": [CREDENTIAL_KEY], "monitor": {"timeout_seconds": 2}},
        )
        try:
            yield runtime, disk
        finally:
            runtime.close()


def status(runtime: Runtime) -> tuple[str, object]:
    with runtime.sessions() as session:
        row = session.scalars(select(CameraStatus)).one()
        return row.state, row.checked_at


@pytest.mark.slow
def test_camera_states_survive_a_full_disk_under_the_database(
    runtime_on_small_disk: tuple[Runtime, Path], healthy: SimulatorThread
) -> None:
    runtime, disk = runtime_on_small_disk
    with TestClient(create_app(runtime=runtime)) as client:
        camera = {"name": "healthy", "unit_code": LOC_THANH, "stream_url": healthy.url("/healthy")}
        response = client.post("/api/v1/cameras", headers=token_for(client, "admin"), json=camera)
        assert response.status_code == 201, response.text
    assert HealthMonitor(runtime).run_round().live == 1
    good = status(runtime)
    later = utcnow() + timedelta(hours=1)  # every camera is due again

    filler = fill(disk)
    with pytest.raises(OperationalError, match="database or disk is full"):
        HealthMonitor(runtime, clock=lambda: later).run_round()
    assert status(runtime) == good  # the stored state is the last good one, not a half write

    filler.unlink()
    report = HealthMonitor(runtime, clock=lambda: later).run_round()
    assert (report.probed, report.live) == (1, 1)
    assert status(runtime) == ("live", later)
    with runtime.engine.connect() as connection:
        assert connection.scalar(text("PRAGMA integrity_check")) == "ok"
    with suppress(FileNotFoundError):
        os.unlink(disk / "filler")
