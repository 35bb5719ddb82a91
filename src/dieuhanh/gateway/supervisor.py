"""Supervising one external program (the transcode worker, ffmpeg, …) from asyncio.

Frigate's practice (``frigate/util/services.py``): the program runs in its own session (process
group), is stopped terminate → wait → kill, keeps a ring buffer of its stderr with credentials
removed and logs it when it dies, and its restarts are counted and exposed. On top of that:

* **No orphans.** ``PR_SET_PDEATHSIG`` asks Linux to send SIGTERM to the child when its parent
  dies, even by SIGKILL. The signal fires when the *thread* that forked the child ends, not the
  process: :meth:`SupervisedProcess.start` must run on the event-loop thread (asyncio forks there),
  and that thread must outlive the child. A child that cannot have it (not Linux) still ends when
  its stdin closes, if it is written so (the transcode worker is).
* **Secrets on stdin.** ``secret_input`` (a stream URL with its password) is written as the first
  line of stdin, never in argv or the environment, which other users can read in ``/proc``; stdin
  then stays open, and its end tells the program to stop.
* **Bounded restarts.** Exponential backoff (1, 2, 4 … s, capped), at most ``max_restarts``
  within ``window`` seconds, then the process is left stopped and reported ``failed``. The owner's
  ``on_restart`` runs before each restart: a new init segment will follow.

Written for Python 3.11's asyncio, whose ``Process.wait()`` returns when the process exits even
if something else still holds its pipes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import logging
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from dieuhanh.core.redact import scrub

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
MAX_LINE = 2000  # a longer stderr line is cut: the ring buffer must stay small
READ_CHUNK = 65536


@dataclass(frozen=True)
class RestartPolicy:
    initial_delay: float = 1.0
    max_delay: float = 30.0
    max_restarts: int = 5  # within `window` seconds; one more exit and the process has failed
    window: float = 60.0
    stable_after: float = 30.0  # a run this long starts the backoff again from initial_delay
    give_up_on: frozenset[int] = frozenset()  # exit codes no restart can fix (bad usage, …)

    def delay(self, failures: int) -> float:
        """Backoff before restart number ``failures`` (1-based) of a row of quick failures."""
        return float(min(self.initial_delay * 2 ** max(0, failures - 1), self.max_delay))


@dataclass(frozen=True)
class ProcessState:
    """What the API shows about a supervised program."""

    running: bool
    pid: int | None
    restarts: int
    last_exit_code: int | None  # negative: killed by that signal
    last_error: str | None
    stderr_tail: tuple[str, ...]
    started_at: float | None  # wall-clock time (time.time()) of the current or last start
    failed: bool  # gave up: too many restarts, or an exit code in give_up_on


OutputCallback = Callable[[bytes], None]


class SupervisedProcess:
    """Runs ``argv``, restarting it when it exits, until :meth:`stop` (or it has failed)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        on_output: OutputCallback,
        on_restart: Callable[[], None] | None = None,
        on_failed: Callable[[ProcessState], None] | None = None,
        secret_input: str | None = None,
        secrets: Iterable[str] = (),
        name: str | None = None,
        policy: RestartPolicy | None = None,
        stderr_lines: int = 50,
        stop_timeout: float = 3.0,
        env: dict[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.argv = list(argv)
        self.name = name or os.path.basename(self.argv[0])
        self.on_output, self.on_restart, self.on_failed = on_output, on_restart, on_failed
        self.secret_input = secret_input
        self.secrets = (*secrets, *_url_secrets(secret_input))
        self.policy = policy or RestartPolicy()
        self.stop_timeout, self.env = stop_timeout, env
        self._clock, self._sleep = clock, sleep
        self._tail: deque[str] = deque(maxlen=stderr_lines)
        self._process: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._restart_times: deque[float] = deque()
        self._failures = 0  # quick failures in a row, for the backoff
        self._restarts = 0
        self._exit_code: int | None = None
        self._error: str | None = None
        self._started_at: float | None = None
        self._failed = False

    @property
    def state(self) -> ProcessState:
        process = self._process
        running = process is not None and process.returncode is None
        return ProcessState(
            running=running,
            pid=process.pid if running and process is not None else None,
            restarts=self._restarts,
            last_exit_code=self._exit_code,
            last_error=self._error,
            stderr_tail=tuple(self._tail),
            started_at=self._started_at,
            failed=self._failed,
        )

    async def start(self) -> None:
        """Spawn the program; returns once it runs (or failed to spawn). Call on the loop thread."""
        if self._task is not None:
            raise RuntimeError(f"{self.name} was already started")
        first_spawn = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(
            self._supervise(first_spawn), name=f"supervise {self.name}"
        )
        await first_spawn

    async def wait(self) -> ProcessState:
        """Until the supervision ends: :meth:`stop` was called, or the program has failed."""
        if self._task is not None:
            await asyncio.shield(self._task)
        return self.state

    async def stop(self) -> None:
        """SIGTERM to the process group, then SIGKILL after ``stop_timeout``; always reaped."""
        self._stopping.set()
        process = self._process
        if process is not None and process.returncode is None:
            await self._terminate(process)
        if self._task is not None:
            await asyncio.shield(self._task)

    # -- supervision ----------------------------------------------------------------------

    async def _supervise(self, first_spawn: asyncio.Future[None]) -> None:
        try:
            while not self._stopping.is_set():
                started = self._clock()
                process = await self._spawn()
                if not first_spawn.done():
                    first_spawn.set_result(None)
                if process is not None:
                    if self._stopping.is_set():  # stop() came while it was being spawned
                        await self._terminate(process)
                    await self._run(process)
                if self._stopping.is_set() or not await self._may_restart(started):
                    return
                self._restarts += 1
                self._call(self.on_restart)
        except asyncio.CancelledError:  # the loop is going away: leave nothing running
            if self._process is not None and self._process.returncode is None:
                _kill_group(self._process.pid, signal.SIGKILL)
            raise
        finally:
            if not first_spawn.done():
                first_spawn.set_result(None)

    def _call(self, callback: Callable[..., None] | None, *args: object) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:  # the owner's bug must not end the supervision
            log.exception("%s: %s failed", self.name, getattr(callback, "__name__", callback))

    async def _spawn(self) -> asyncio.subprocess.Process | None:
        self._started_at = time.time()
        stdin = asyncio.subprocess.DEVNULL if self.secret_input is None else asyncio.subprocess.PIPE
        try:
            process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=stdin,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # its own process group: stop() signals all of it
                preexec_fn=_pdeathsig_preexec(os.getpid()),
                env=self.env,
            )
        except OSError as exc:  # no such program, not executable, out of processes
            self._exit_code, self._error = None, scrub(f"cannot start: {exc}", self.secrets)
            log.error("%s: %s", self.name, self._error)
            return None
        self._process = process
        log.info("%s: started, pid %d", self.name, process.pid)
        if self.secret_input is not None and process.stdin is not None:
            process.stdin.write(self.secret_input.encode() + b"\n")
            with contextlib.suppress(ConnectionError):  # it died already: the exit tells why
                await process.stdin.drain()
        return process

    async def _run(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None and process.stderr is not None
        readers = [
            asyncio.create_task(self._pump_stdout(process.stdout)),
            asyncio.create_task(self._pump_stderr(process.stderr)),
        ]
        code = await process.wait()
        _kill_group(process.pid, signal.SIGKILL)  # whatever it started dies with it
        _, pending = await asyncio.wait(readers, timeout=1.0)
        for task in pending:  # a grandchild outside the group may still hold a pipe
            task.cancel()
        if process.stdin is not None:
            process.stdin.close()
        self._exit_code, self._error = code, self._describe_exit(code)
        tail = "\n  | ".join(self._tail) or "(nothing)"
        level = logging.INFO if self._stopping.is_set() else logging.WARNING
        log.log(level, "%s: %s; last stderr lines:\n  | %s", self.name, self._error, tail)

    def _describe_exit(self, code: int) -> str:
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
        last = self._tail[-1] if self._tail else ""
        return f"exited with code {code}" + (f": {last}" if last else "")

    async def _may_restart(self, started: float) -> bool:
        policy, now = self.policy, self._clock()
        self._failures = 1 if now - started >= policy.stable_after else self._failures + 1
        while self._restart_times and now - self._restart_times[0] >= policy.window:
            self._restart_times.popleft()
        if self._exit_code in policy.give_up_on or len(self._restart_times) >= policy.max_restarts:
            self._failed = True
            log.error("%s: failed, not restarting (%d restarts)", self.name, self._restarts)
            self._call(self.on_failed, self.state)
            return False
        delay = policy.delay(self._failures)
        log.info("%s: restarting in %.0f s", self.name, delay)
        if await self._stopped_within(delay):
            return False
        self._restart_times.append(self._clock())
        return True

    async def _stopped_within(self, delay: float) -> bool:
        sleeping = asyncio.ensure_future(self._sleep(delay))
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({sleeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
        sleeping.cancel()
        stopping.cancel()
        return self._stopping.is_set()

    async def _terminate(self, process: asyncio.subprocess.Process) -> None:
        _kill_group(process.pid, signal.SIGTERM)
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), self.stop_timeout)
        except TimeoutError:
            log.warning("%s: no exit %.0f s after SIGTERM, killing", self.name, self.stop_timeout)
            _kill_group(process.pid, signal.SIGKILL)
            await process.wait()

    # -- pipes ----------------------------------------------------------------------------

    async def _pump_stdout(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(READ_CHUNK):
            self._call(self.on_output, chunk)

    async def _pump_stderr(self, stream: asyncio.StreamReader) -> None:
        pending = b""
        while chunk := await stream.read(4096):
            *lines, pending = (pending + chunk).split(b"\n")
            if len(pending) > MAX_LINE:
                lines, pending = [*lines, pending], b""
            for line in lines:
                self._stderr_line(line)
        if pending:
            self._stderr_line(pending)

    def _stderr_line(self, raw: bytes) -> None:
        line = raw[:MAX_LINE].decode("utf-8", "replace").rstrip()
        if line:
            line = scrub(line, self.secrets)
            self._tail.append(line)
            log.debug("%s: %s", self.name, line)


def _url_secrets(text: str | None) -> tuple[str, ...]:
    """The password of a URL given as secret input, as typed and percent-decoded."""
    if not text:
        return ()
    try:
        password = urlsplit(text.strip()).password
    except ValueError:
        return (text.strip(),)
    return (password, unquote(password)) if password else ()


def _kill_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _pdeathsig_preexec(parent: int) -> Callable[[], None] | None:
    """Runs in the child between fork and exec: SIGTERM it when the forking thread dies."""
    prctl = _prctl()
    if prctl is None:
        return None

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up in the parent: nothing but the call itself runs after the fork."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return function
