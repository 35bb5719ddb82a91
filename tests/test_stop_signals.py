"""Every command that runs until stopped stops on SIGINT and on SIGTERM, with status 0, even when
started with SIGINT ignored — as a shell in the background (``./scripts/test &``, ``nohup``, some
CI runners) starts its children. Python installs no KeyboardInterrupt handler then, so a command
relying on one would ignore Ctrl-C for ever. (The camera simulator's own command is tested in
tests/cameras/test_simulator.py; the transcode worker's stop while streaming in tests/gateway/.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dieuhanh.core.runtime import Runtime
from tests.browser import free_port
from tests.conftest import CREDENTIAL_KEY
from tests.processes import reaped, stop

pytestmark = pytest.mark.slow
SIGNALS = pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"]
)
UP = "Application startup complete"  # uvicorn's line once it serves


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def environment(**settings: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIEUHANH_")}
    return {**clean, **settings}


def run_until_up_then_signal(
    args: list[str], env: dict[str, str], ready: str, signum: int, log: Path, startup: float = 90
) -> tuple[int, str]:
    """Starts ``dieuhanh ARGS`` with SIGINT ignored, waits for ``ready`` in its output, sends
    ``signum``; returns the exit code and the output. Killed at the end whatever happens."""
    with log.open("wb") as output:
        popen = subprocess.Popen(
            [sys.executable, "-m", "dieuhanh", *args],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=ignore_sigint,
        )
    with reaped(popen) as process:
        deadline = time.monotonic() + startup
        while ready not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, f"no {ready!r} within {startup:g} s"
            time.sleep(0.1)
        code = stop(process, signum, timeout=20)
    return code, log.read_text(errors="replace")


@SIGNALS
def test_demo_stops(signum: int, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    data_dir = tmp_path_factory.getbasetemp() / "stop-signals-demo"  # shared: set up once
    args = ["demo", "--port", str(free_port()), "--data-dir", str(data_dir)]
    code, output = run_until_up_then_signal(args, environment(), UP, signum, tmp_path / "log")
    assert code == 0, output
    assert "Finished server process" in output  # uvicorn shut down, not killed


@pytest.fixture
def settings_env(sqlite_runtime: Runtime) -> dict[str, str]:
    return environment(
        DIEUHANH_DATABASE_URL=sqlite_runtime.settings.database_url,
        DIEUHANH_DATA_DIR=str(sqlite_runtime.settings.data_dir),
        DIEUHANH_GATEWAY__SECRET="test-gateway-secret",
        DIEUHANH_CAMERAS__CREDENTIAL_KEYS=f'["{CREDENTIAL_KEY}"]',
    )


@SIGNALS
@pytest.mark.parametrize(
    ("command", "ready"),
    [
        (lambda port: ["serve", "--port", str(port)], UP),
        (lambda port: ["gateway", "--host", "127.0.0.1", "--port", str(port)], UP),
        (lambda port: ["worker"], "worker running"),
    ],
    ids=["serve", "gateway", "worker"],
)
def test_command_stops(
    command: Callable[[int], list[str]],
    ready: str,
    signum: int,
    settings_env: dict[str, str],
    tmp_path: Path,
) -> None:
    args = command(free_port())
    code, output = run_until_up_then_signal(args, settings_env, ready, signum, tmp_path / "log")
    assert code == 0, output
    assert ("worker stopped" if args == ["worker"] else "Finished server process") in output


def catches(pid: int, signum: int) -> bool:
    """Whether the process has its own handler for ``signum`` (SigCgt in /proc: no guessing
    when a child is far enough in its start to have installed it)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


@SIGNALS
def test_transcode_worker_stops_while_waiting_for_its_url(signum: int) -> None:
    popen = subprocess.Popen(
        [sys.executable, "-m", "dieuhanh.gateway.transcode_worker"],
        stdin=subprocess.PIPE,  # open, nothing written: it waits for the stream URL
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=ignore_sigint,
    )
    with reaped(popen) as process:
        deadline = time.monotonic() + 60
        while not catches(process.pid, signal.SIGINT):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        assert stop(process, signum, timeout=20) == 0
