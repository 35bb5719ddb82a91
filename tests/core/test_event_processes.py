"""A dispatcher in another process: woken by what this process publishes, killed mid-batch with
SIGKILL and restarted, it goes on from its cursor: no event lost, none handled twice in the
database (the file, written outside the transaction, shows the batch that was done again)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from dieuhanh.core.events import publish
from dieuhanh.core.runtime import Runtime
from tests.core.event_runner import NAME
from tests.core.kit import count_handled, event_ids, handled_ids

ROOT = Path(__file__).resolve().parents[2]


def start_runner(url: str, log_file: Path, delay: float) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    options = ["--delay", str(delay), "--lifetime", "90", "--batch", "20"]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.core.event_runner", url, str(log_file), *options],
        cwd=ROOT,
        env=env,
    )


def wait_until(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, f"the runner exited with {process.returncode}"
        assert time.monotonic() < deadline, "the runner did not get there in time"
        time.sleep(0.02)


def lines(log_file: Path) -> list[int]:
    if not log_file.exists():
        return []
    return [int(line) for line in log_file.read_text().split()]


def test_killed_mid_batch_and_restarted_resumes_from_its_cursor(
    events_runtime: Runtime, tmp_path: Path
) -> None:
    url = events_runtime.engine.url.render_as_string(hide_password=False)
    log_file = tmp_path / "handled.txt"
    engine = events_runtime.engine
    with events_runtime.sessions() as session:
        for n in range(100):
            publish(session, "test.ping", {"n": n})
            if n % 10 == 9:
                session.commit()
    published = event_ids(engine)
    runner = start_runner(url, log_file, delay=0.01)
    try:
        # Mid-batch: handled (in the file) further than committed (in the database).
        wait_until(lambda: len(lines(log_file)) > count_handled(engine) >= 20, runner)
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(timeout=10)
    committed = count_handled(engine)
    assert committed < len(lines(log_file)) and committed < len(published)

    runner = start_runner(url, log_file, delay=0.0)
    try:
        wait_until(lambda: count_handled(engine) >= len(published), runner)
        with events_runtime.sessions() as session:  # woken by this process's commit
            publish(session, "test.note", {"text": "after the restart"})
            session.commit()
        published = event_ids(engine)
        wait_until(lambda: count_handled(engine) >= len(published), runner)
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=30) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(timeout=10)
    assert handled_ids(engine, NAME) == published  # each once, in order
    in_file = lines(log_file)
    assert set(in_file) == set(published) and len(in_file) > len(published)  # redone batch
