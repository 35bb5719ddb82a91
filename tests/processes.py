"""Bounded waits on child processes: every wait has a timeout, and a child is killed at the end.

A test that waits on a child without a limit hangs the whole run when the child does not behave
(e.g. it inherited SIGINT ignored from a shell started in the background), so every helper here
takes a timeout, and :func:`reaped` kills whatever is still running when its block ends.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO, Any, AnyStr

KILL_TIMEOUT = 10.0  # after SIGKILL a process only has to be reaped


def kill(process: subprocess.Popen[Any]) -> None:
    """SIGKILL ``process`` if it still runs and reap it (bounded: SIGKILL cannot be ignored)."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            process.kill()
    with suppress(subprocess.TimeoutExpired):
        process.wait(KILL_TIMEOUT)


@contextmanager
def reaped(process: subprocess.Popen[Any]) -> Iterator[subprocess.Popen[Any]]:
    """``with reaped(Popen(...)) as process:`` — the process is killed and reaped at the end."""
    try:
        yield process
    finally:
        kill(process)
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                with suppress(OSError):
                    pipe.close()


def stop(process: subprocess.Popen[Any], signum: int = signal.SIGTERM, timeout: float = 15) -> int:
    """Send ``signum`` and return the exit code; raises ``TimeoutExpired`` (after killing the
    process) when it did not exit within ``timeout`` seconds."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            process.send_signal(signum)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        kill(process)
        raise


def readline(stream: IO[AnyStr], timeout: float) -> AnyStr:
    """One line of a child's pipe, or ``TimeoutError`` after ``timeout`` seconds.

    Reads byte by byte from the file descriptor once select() says there is something, so no
    buffered reader holds data select() cannot see."""
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        readable, _, _ = select.select([stream], [], [], max(remaining, 0))
        if not readable:
            raise TimeoutError(f"no complete line within {timeout:g} s (got {line!r})")
        byte = os.read(stream.fileno(), 1)
        if not byte:
            break  # end of file: the child closed its side
        line += byte
    if isinstance(getattr(stream, "encoding", None), str):
        return line.decode(stream.encoding)  # type: ignore[attr-defined,no-any-return]
    return line  # type: ignore[return-value]
