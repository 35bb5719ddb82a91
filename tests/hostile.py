"""Hostile "cameras" on loopback: servers that answer scripted bytes, and a web login page.

Each runs on its own event loop in a daemon thread (the simulator's ``run_service``), so a client
that spins cannot stop the server, and ``run_bounded`` runs a client's coroutine on a loop of its
own in a daemon thread: a test of a hang fails after its bound instead of hanging the suite.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from dieuhanh.simulator.tcp import TrackedServer

T = TypeVar("T")
_CSEQ = re.compile(rb"CSeq:\s*([0-9]+)", re.IGNORECASE)


class ScriptedServer(TrackedServer):
    """Answers the n-th request of each connection with ``answers[n]`` (``{cseq}`` replaced by
    the request's CSeq), then keeps the connection open, reading and discarding (``hold``) or
    closes it."""

    def __init__(self, answers: Sequence[bytes], hold: bool = True) -> None:
        super().__init__()
        self.answers = list(answers)
        self.hold = hold
        self.connections = 0
        self.requests: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        for answer in self.answers:
            try:
                request = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                return
            self.requests.append(request)
            found = _CSEQ.search(request)
            writer.write(answer.replace(b"{cseq}", found[1] if found else b"0"))
            await writer.drain()
        while self.hold and await reader.read(4096):
            pass


class HttpLoginPage(TrackedServer):
    """A router's web server on the camera's port: every request gets a login page (401, keep-
    alive), and the connection stays open as HTTP/1.1 allows."""

    PAGE = b"<html><body><form>Router login</form></body></html>"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                return
            writer.write(b"HTTP/1.1 401 Unauthorized\r\nServer: mini_httpd\r\n"
                         b'WWW-Authenticate: Basic realm="Router"\r\nContent-Type: text/html\r\n'
                         b"Connection: keep-alive\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(self.PAGE), self.PAGE))  # fmt: skip
            await writer.drain()


def rtsp_reply(*headers: str, body: bytes = b"", status: str = "200 OK") -> bytes:
    """An RTSP response with the request's CSeq; ``headers`` as ``"Name: value"``."""
    lines = [f"RTSP/1.0 {status}", "CSeq: {cseq}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def run_bounded(coroutine: Coroutine[Any, Any, T], bound: float = 20.0) -> T:
    """Runs ``coroutine`` on a fresh loop in a daemon thread; fails the test when that loop is
    still busy after ``bound`` seconds (a spinning client cannot be cancelled, only abandoned)."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(asyncio.run(coroutine))
        except BaseException as error:  # re-raised in the test's thread
            failure.append(error)

    runner = threading.Thread(target=target, name="bounded-event-loop", daemon=True)
    runner.start()
    runner.join(bound)
    if runner.is_alive():
        raise AssertionError(f"the event loop was still busy after {bound:g} s: a hang")
    if failure:
        raise failure[0]
    return outcome[0]
