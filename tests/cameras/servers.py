"""Real RTSP servers for the camera tests, started and stopped from the venv's pytest.

``gst_rtsp_server()`` runs ``gst_server.py`` (GStreamer's RTSP server) under Debian's
``/usr/bin/python3``, the only interpreter with the ``gi`` bindings. The server gets its own
session so that stopping it takes every process it started; it is stopped SIGTERM → wait →
SIGKILL, like any supervised external program in DieuHanh. No pytest fixtures here: the
fixtures that wrap these functions live next to the tests.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from dieuhanh.simulator import clock_code
from dieuhanh.simulator.tcp import TrackedServer

GST_PYTHON = Path("/usr/bin/python3")
SERVER_SCRIPT = Path(__file__).with_name("gst_server.py")
DEBIAN_PACKAGES = (
    "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base "
    "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly"
)
STOP_TIMEOUT = 5.0
STDERR_TAIL = 4000


class GstServerError(RuntimeError):
    """The GStreamer RTSP server did not start; the message carries its stderr."""


@dataclass(frozen=True)
class GstServer:
    port: int
    pid: int  # also the process group and session id
    width: int
    height: int
    fps: int
    gop_seconds: float
    username: str
    password: str
    host: str = "127.0.0.1"

    def url(self, path: str, username: str | None = None, password: str | None = None) -> str:
        """``rtsp://[user:password@]127.0.0.1:port/path``, credentials percent-encoded."""
        userinfo = ""
        if username is not None:
            userinfo = quote(username, safe="")
            if password is not None:
                userinfo += ":" + quote(password, safe="")
            userinfo += "@"
        return f"rtsp://{userinfo}{self.host}:{self.port}/{path.lstrip('/')}"

    def secure_url(self) -> str:
        return self.url("/secure", self.username, self.password)


def gstreamer_available() -> tuple[bool, str]:
    """Whether the GStreamer server can run here and, if not, what to install.

    For a clear failure message: the camera tests need a real RTSP server and are never skipped.
    """
    if not GST_PYTHON.is_file():
        return False, f"{GST_PYTHON} not found; install Debian's python3 and: {DEBIAN_PACKAGES}"
    try:
        result = subprocess.run(
            [str(GST_PYTHON), str(SERVER_SCRIPT), "--check"],
            capture_output=True,
            text=True,
            timeout=60,  # a first run builds GStreamer's plugin registry
        )
    except subprocess.TimeoutExpired:
        return False, f"{SERVER_SCRIPT.name} --check did not answer within 60 s"
    if result.returncode == 0:
        return True, result.stdout.strip()
    why = (result.stderr or result.stdout).strip()[-STDERR_TAIL:]
    return False, f"{why}\nrun scripts/install --test (Debian packages: {DEBIAN_PACKAGES})"


@contextmanager
def gst_rtsp_server(
    *,
    port: int = 0,
    width: int = 320,
    height: int = 180,
    fps: int = 10,
    gop_seconds: float = 1.0,
    username: str = "operator",
    password: str = "cam-secret-42",
    startup_timeout: float = 20.0,
) -> Iterator[GstServer]:
    """Runs the GStreamer RTSP server on 127.0.0.1 for the duration of the ``with`` block."""
    arguments = {
        "--port": port,
        "--width": width,
        "--height": height,
        "--fps": fps,
        "--gop-seconds": gop_seconds,
        "--username": username,
        "--password": password,
    }
    command = [str(GST_PYTHON), str(SERVER_SCRIPT)]
    for flag, value in arguments.items():
        command += [flag, str(value)]
    # stderr goes to a file, not a pipe: nobody reads it while the server runs and a full pipe
    # would block GStreamer's logging.
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            bound = _wait_ready(process, stderr, startup_timeout)
            yield GstServer(
                port=bound,
                pid=process.pid,
                width=width,
                height=height,
                fps=fps,
                gop_seconds=gop_seconds,
                username=username,
                password=password,
            )
        finally:
            stop_process_group(process)


def _wait_ready(process: subprocess.Popen[bytes], stderr: IO[bytes], timeout: float) -> int:
    """Reads the server's stdout until ``READY <port>``; no polling, select() waits."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    received = b""
    while b"\n" not in received:
        remaining = deadline - time.monotonic()
        readable, _, _ = select.select([process.stdout], [], [], max(remaining, 0))
        if not readable:
            raise GstServerError(f"no READY line within {timeout:g} s{_stderr_tail(stderr)}")
        chunk = os.read(process.stdout.fileno(), 4096)
        if not chunk:  # stdout closed: the server died
            code = process.wait(timeout=STOP_TIMEOUT)
            raise GstServerError(f"gst_server.py exited with {code}{_stderr_tail(stderr)}")
        received += chunk
    line = received.split(b"\n", 1)[0].decode(errors="replace").strip()
    word, _, port = line.partition(" ")
    if word != "READY" or not port.isdigit():
        raise GstServerError(f"unexpected first line {line!r}{_stderr_tail(stderr)}")
    return int(port)


def _stderr_tail(stderr: IO[bytes]) -> str:
    stderr.seek(0)
    text = stderr.read().decode(errors="replace").strip()[-STDERR_TAIL:]
    return f"; stderr:\n{text}" if text else "; stderr was empty"


def stop_process_group(process: subprocess.Popen[Any]) -> None:
    """SIGTERM the process's group, wait, then SIGKILL whatever is left; never leaves orphans."""
    group = process.pid  # start_new_session made the child a group leader
    with suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_TIMEOUT)
    # Even after a clean exit a child (e.g. gst-plugin-scanner) may remain in the group.
    with suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    process.wait(STOP_TIMEOUT)  # SIGKILL cannot be ignored: only reaping is left
    if process.stdout is not None:
        process.stdout.close()


def process_group_alive(group: int) -> bool:
    """True while any process of ``group`` exists (signal 0 only checks)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def read_clock(frame: Any) -> float:
    """The Unix time (seconds) burnt into a decoded ``/clock`` frame (a PyAV ``VideoFrame``).

    The code's layout is kept once, in the simulator (whose live cameras carry the same code);
    gst_server.py, which cannot import it, draws its own copy. Raises ValueError when the sync
    row is missing.
    """
    return clock_code.read_clock(frame)


class RecordingRtspServer(TrackedServer):
    """An RTSP "camera" that asks every request for a login (401, Basic) and keeps what it was
    sent: the proof of which headers — an ``Authorization`` above all — reached this host:port."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted = 0
        self.requests: list[str] = []

    @property
    def authorizations(self) -> list[str]:
        return [line for head in self.requests for line in head.split("\r\n")
                if line.lower().startswith("authorization:")]  # fmt: skip

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        with suppress(asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            await self._answer(reader, writer)

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while head := await reader.readuntil(b"\r\n\r\n"):
            text = head.decode("latin-1")
            self.requests.append(text)
            cseq = next((line.split(":", 1)[1].strip() for line in text.split("\r\n")
                         if line.lower().startswith("cseq:")), "0")  # fmt: skip
            writer.write(
                f'RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\nWWW-Authenticate: Basic realm="cam"'
                "\r\nContent-Length: 0\r\n\r\n".encode()
            )
            await writer.drain()
