"""SupervisedProcess: bounded restarts with backoff, clean stops, scrubbed stderr, no orphans."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from dieuhanh.gateway.supervisor import ProcessState, RestartPolicy, SupervisedProcess
from dieuhanh.simulator import SimulatedCamera, SimulatorThread, run_simulator
from tests.aio import run as run_in_thread
from tests.processes import kill, readline, reaped

PYTHON = sys.executable
LOOPBACK = ("--allowed-networks", "127.0.0.0/8")  # the test cameras' network


def python(code: str) -> list[str]:
    return [PYTHON, "-c", textwrap.dedent(code)]


class FakeSleep:
    """Backoff without waiting: records each delay and moves a fake clock on by it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.delays: list[float] = []

    def clock(self) -> float:
        return self.now

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.now += delay
        await asyncio.sleep(0)


def run(coroutine: Callable[[], Awaitable[None]]) -> None:
    run_in_thread(coroutine(), 30)


def live_processes_in_group(pgid: int) -> list[int]:
    """Members of a process group that are not zombies (reaped or not, a zombie is gone)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_crashing_program_is_restarted_with_backoff_then_given_up() -> None:
    sleep = FakeSleep()
    restarts: list[int] = []
    failed: list[ProcessState] = []

    async def scenario() -> None:
        process = SupervisedProcess(
            python("import sys; print('boom', file=sys.stderr); sys.exit(3)"),
            on_output=lambda chunk: None,
            on_restart=lambda: restarts.append(1),
            on_failed=failed.append,
            clock=sleep.clock,
            sleep=sleep,
        )
        await process.start()
        state = await process.wait()
        assert sleep.delays == [1, 2, 4, 8, 16]
        assert (state.restarts, state.failed, state.running, state.pid) == (5, True, False, None)
        assert state.last_exit_code == 3 and state.last_error == "exited with code 3: boom"
        assert len(restarts) == 5 and failed == [state]

    run(scenario)


def test_long_runs_reset_the_backoff_and_the_bound() -> None:
    sleep = FakeSleep()

    def slow_clock() -> float:
        sleep.now += 50  # each reading 50 s after the last: every run lasts 50 s
        return sleep.now

    async def scenario() -> None:
        process = SupervisedProcess(
            python("raise SystemExit(1)"),
            on_output=lambda chunk: None,
            policy=RestartPolicy(max_restarts=3, window=60, stable_after=30),
            clock=slow_clock,
            sleep=sleep,
        )
        await process.start()
        while process.state.restarts < 6 and not process.state.failed:
            await asyncio.sleep(0.01)
        await process.stop()
        assert not process.state.failed and sleep.delays[:6] == [1.0] * 6

    run(scenario)


def test_an_exit_code_no_restart_can_fix_gives_up_at_once() -> None:
    async def scenario() -> None:
        process = SupervisedProcess(
            python("raise SystemExit(13)"),
            on_output=lambda chunk: None,
            policy=RestartPolicy(give_up_on=frozenset({13})),
        )
        await process.start()
        state = await process.wait()
        assert (state.failed, state.restarts, state.last_exit_code) == (True, 0, 13)

    run(scenario)


def test_a_program_that_cannot_start_is_reported() -> None:
    sleep = FakeSleep()

    async def scenario() -> None:
        process = SupervisedProcess(
            ["/nonexistent/program"],
            on_output=lambda chunk: None,
            policy=RestartPolicy(max_restarts=1),
            clock=sleep.clock,
            sleep=sleep,
        )
        await process.start()
        state = await process.wait()
        assert state.failed and state.last_error is not None
        assert state.last_error.startswith("cannot start: [Errno 2]")

    run(scenario)


def test_output_reaches_the_callback_as_it_comes() -> None:
    chunks: list[bytes] = []

    async def scenario() -> None:
        process = SupervisedProcess(
            python("""
                import sys, time
                for i in range(3):
                    sys.stdout.buffer.write(b"chunk%d;" % i)
                    sys.stdout.flush()
                    time.sleep(0.05)
                time.sleep(60)
            """),
            on_output=chunks.append,
        )
        await process.start()
        while b"".join(chunks) != b"chunk0;chunk1;chunk2;":
            await asyncio.sleep(0.01)
        assert process.state.running and process.state.pid is not None
        await process.stop()
        assert not process.state.running and process.state.last_exit_code == -signal.SIGTERM

    run(scenario)


def test_stop_kills_the_whole_group_of_a_program_that_ignores_sigterm(tmp_path: Path) -> None:
    pids = tmp_path / "pids"

    async def scenario() -> None:
        process = SupervisedProcess(
            python(f"""
                import os, signal, subprocess, sys, time
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
                open({str(pids)!r}, "w").write(f"{{os.getpid()}} {{child.pid}}")
                print("ready", flush=True)
                time.sleep(60)
            """),
            on_output=lambda chunk: None,
            stop_timeout=0.5,
        )
        await process.start()
        while not pids.exists() or not pids.read_text():
            await asyncio.sleep(0.01)
        leader = process.state.pid
        assert leader is not None and len(live_processes_in_group(leader)) == 2
        started = time.monotonic()
        await process.stop()
        assert 0.4 < time.monotonic() - started < 3
        assert process.state.last_exit_code == -signal.SIGKILL
        assert wait_for(lambda: not live_processes_in_group(leader), 3)

    run(scenario)


def test_the_secret_goes_to_stdin_and_never_into_stderr_or_argv(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "rtsp://admin:S3cr%40t%21@camera.local/stream"

    async def scenario() -> None:
        process = SupervisedProcess(
            python("""
                import sys
                from urllib.parse import unquote, urlsplit
                url = sys.stdin.readline().strip()
                password = urlsplit(url).password
                print(f"opening {url}", file=sys.stderr)
                print(f"the password is {unquote(password)} and {password}", file=sys.stderr)
                for number in range(100):
                    print(f"line {number}", file=sys.stderr)
                sys.exit(5)
            """),
            on_output=lambda chunk: None,
            secret_input=secret,
            stderr_lines=10,
            policy=RestartPolicy(give_up_on=frozenset({5})),
        )
        await process.start()
        pid = process.state.pid
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes() if pid else b""
        state = await process.wait()
        assert b"S3cr" not in cmdline
        assert state.stderr_tail == tuple(f"line {n}" for n in range(90, 100))

    with caplog.at_level(logging.DEBUG, logger="dieuhanh.gateway.supervisor"):
        run(scenario)
    logged = caplog.text
    assert "opening rtsp://admin:****@camera.local/stream" in logged
    assert "the password is **** and ****" in logged
    assert "S3cr" not in logged and "line 99" in logged


ORPHAN_PARENT = """
import asyncio, sys
from dieuhanh.gateway.supervisor import SupervisedProcess

async def main() -> None:
    got_output = asyncio.Event()
    process = SupervisedProcess(
        sys.argv[2:], on_output=lambda chunk: got_output.set(), secret_input=sys.argv[1]
    )
    await process.start()
    await got_output.wait()
    print(process.state.pid, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


def start_parent(secret: str, argv: list[str]) -> tuple[subprocess.Popen[str], int]:
    parent = subprocess.Popen(
        [PYTHON, "-c", ORPHAN_PARENT, secret, *argv], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    try:
        line = readline(parent.stdout, timeout=30)  # the worker's pid, once it has output
    except TimeoutError:
        kill(parent)
        raise
    finally:
        parent.stdout.close()
    assert line.strip().isdigit(), "the supervised program never produced output"
    return parent, int(line)


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorThread]:
    cameras = [SimulatedCamera("/h265", codec="h265", width=640, height=360, fps=15)]
    with run_simulator(cameras, cache_dir=tmp_path_factory.mktemp("clips")) as sim:
        yield sim


def test_supervising_the_transcode_worker(simulator: SimulatorThread) -> None:
    received = bytearray()

    async def scenario() -> None:
        process = SupervisedProcess(
            [PYTHON, "-m", "dieuhanh.gateway.transcode_worker", "--max-width", "320", *LOOPBACK],
            on_output=received.extend,
            secret_input=simulator.url("/h265"),
            name="transcode",
        )
        await process.start()
        while received.count(b"moof") < 5:
            await asyncio.sleep(0.02)
        started = time.monotonic()
        await process.stop()
        assert time.monotonic() - started < 2
        state = process.state
        assert (state.last_exit_code, state.restarts, state.failed) == (0, 0, False)
        assert "exit 0 (ok)" in state.stderr_tail[-1]  # by SIGTERM or by stdin closing

    run(scenario)
    assert received[4:8] == b"ftyp"


def test_no_orphan_worker_when_the_gateway_is_killed(simulator: SimulatorThread) -> None:
    worker = [PYTHON, "-m", "dieuhanh.gateway.transcode_worker", "--preset", "libx264", *LOOPBACK]
    parent, pid = start_parent(simulator.url("/h265"), worker)
    with reaped(parent):
        assert live_processes_in_group(pid) == [pid]  # its own group, led by the worker
        parent.kill()  # SIGKILL: no cleanup code runs in the parent
        parent.wait(5)
    assert wait_for(lambda: not live_processes_in_group(pid), 5), "the worker outlived the gateway"


def test_pdeathsig_ends_even_a_program_that_ignores_its_stdin() -> None:
    sleeper = python("""
        import sys, time
        print("up", flush=True)
        time.sleep(600)
    """)
    parent, pid = start_parent("unused", sleeper)
    with reaped(parent):
        parent.kill()
        parent.wait(5)
    assert wait_for(lambda: not live_processes_in_group(pid), 3)


def test_without_pdeathsig_the_worker_notices_its_parent_is_gone(
    simulator: SimulatorThread, tmp_path: Path
) -> None:
    """Outside Linux there is no PDEATHSIG: the worker polls getppid(). Here its stdin stays
    open (the test holds it) and its stdout is a file, so nothing else can tell it."""
    output = tmp_path / "stream.mp4"
    read, write = os.pipe()
    os.write(write, simulator.url("/h265").encode() + b"\n")
    plain_parent = python(f"""
        import subprocess, sys, time
        worker = [sys.executable, "-m", "dieuhanh.gateway.transcode_worker",
                  "--allowed-networks", "127.0.0.0/8"]
        child = subprocess.Popen(worker, stdin=0, stdout=open({str(output)!r}, "wb"))
        print(child.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen(plain_parent, stdin=read, stdout=subprocess.PIPE, text=True)
    os.close(read)
    try:
        with reaped(parent):
            assert parent.stdout is not None
            pid = int(readline(parent.stdout, timeout=30))
            parent.stdout.close()
            assert wait_for(lambda: output.exists() and output.stat().st_size > 0, 10)
            parent.kill()
            parent.wait(5)
        assert wait_for(lambda: not is_alive(pid), 3), "the worker outlived its parent"
    finally:
        os.close(write)


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
