"""The kernel issue's proof across processes, on PostgreSQL: what a `dieuhanh serve` process
publishes is handled by a subscriber in a separate `dieuhanh worker` process; killed with SIGKILL
in the middle of a batch and started again, the worker resumes from its cursor, with no event
lost or handled twice; and `serve` lists the worker's jobs with their last run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import CREDENTIAL_KEY, PASSWORD, BackendPool
from tests.core.toy import capability as toy
from tests.processes import reaped
from tests.test_cli import free_port

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 90


@pytest.fixture
def postgres_url(backend_pool: BackendPool) -> Iterator[str]:
    backend = backend_pool.get("postgresql")
    url = backend.copy_template()
    yield url
    backend.drop(url)


def environment(url: str, data_dir: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIEUHANH_")}
    return {
        **clean,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        "DIEUHANH_DATABASE_URL": url,
        "DIEUHANH_DATA_DIR": str(data_dir),
        "DIEUHANH_PLUGINS": json.dumps([toy.__name__]),
        "DIEUHANH_CAMERAS__CREDENTIAL_KEYS": json.dumps([CREDENTIAL_KEY]),
        "DIEUHANH_GATEWAY__SECRET": "test-gateway-secret",
    }


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "dieuhanh", *command],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_for(what: str, condition: Callable[[], bool], *processes: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        for process in processes:
            assert process.poll() is None, f"a process exited ({process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} within {WAIT_SECONDS} s"
        time.sleep(0.05)


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with reaped(start(["serve", "--port", str(port)], env, log)) as process:
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{base}/api/v1/health/live", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for("serve answering", up, process)
        yield base


def handled_numbers(url: str) -> tuple[int, list[int]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT key, value FROM app_meta WHERE key LIKE 'toy.%'")
            ).all()
    finally:
        engine.dispose()
    values = dict(rows)
    numbers = sorted(int(k.rsplit(".", 1)[1]) for k in values if k.startswith("toy.greeting."))
    return int(values.get(toy.HANDLED, 0)), numbers


def handled(url: str) -> int:
    return handled_numbers(url)[0]


def test_an_event_from_serve_reaches_the_worker_which_resumes_after_a_kill(
    postgres_url: str, tmp_path: Path
) -> None:
    env = environment(postgres_url, tmp_path)
    log = tmp_path / "processes.log"
    with serving(env, log) as base:
        login = {"username": "admin", "password": PASSWORD}
        token = httpx.post(f"{base}/api/v1/auth/token", json=login, timeout=30).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}

        def greet(number: int) -> None:
            response = httpx.post(
                f"{base}/api/v1/toy/greet", params={"number": number}, headers=headers, timeout=30
            )
            assert response.status_code == 200, response.text

        for number in range(1, 41):
            greet(number)
        with reaped(start(["worker"], env, log)) as worker:
            first_worker = worker.pid
            wait_for("some greetings handled", lambda: handled(postgres_url) >= 5, worker)
            worker.send_signal(signal.SIGKILL)  # in the middle of a batch of 40 slow greetings
            assert worker.wait(timeout=30) == -signal.SIGKILL
        before_kill, _ = handled_numbers(postgres_url)
        assert before_kill < 40, "the worker finished before it was killed: nothing was proven"
        for number in range(41, 61):  # published while no worker runs
            greet(number)
        with reaped(start(["worker"], env, log)) as worker:
            wait_for("every greeting handled", lambda: handled(postgres_url) >= 60, worker)
            time.sleep(1)  # a repeat would show as a count past 60
            count, numbers = handled_numbers(postgres_url)
            assert count == 60 and numbers == list(range(1, 61)), log.read_text()[-3000:]
            # `serve` runs no job itself, yet lists the workers' jobs with their last run (the
            # first worker's: the job runs once per interval, however many workers there are).
            wait_for("serve listing the worker's job", lambda: _ran_by(base, headers), worker)
            assert _ran_by(base, headers).split(":")[1] in {str(first_worker), str(worker.pid)}


def _ran_by(base: str, headers: dict[str, str]) -> str:
    jobs = httpx.get(f"{base}/api/v1/jobs", headers=headers, timeout=30).json()
    job = next((job for job in jobs if job["name"] == "toy.count"), None)
    return (job or {}).get("last_run_by") or "" if job and job.get("last_success_at") else ""
