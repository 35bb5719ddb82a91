"""Dead "cameras": the ways a stream fails before any RTSP is spoken.

* :class:`HangServer` accepts connections and never answers (a wedged camera, a firewall that
  lets the handshake through).
* :class:`GarbageServer` answers with bytes that are not RTSP (a web page on the RTSP port, a
  vendor protocol).
* :class:`RefusingPort` is a loopback port where connections are refused.
* :func:`unresolvable_host` names a host no DNS server resolves.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import socket
from types import TracebackType
from typing import Literal, Self

from dieuhanh.simulator.tcp import TrackedServer

GARBAGE_CHUNK = 512


class HangServer(TrackedServer):
    """Accepts, reads and discards whatever comes, never writes a byte."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(4096):
            pass


class GarbageServer(TrackedServer):
    """Answers the first request with random bytes, then closes (``close``) or keeps going."""

    def __init__(self, mode: Literal["close", "stream"] = "close", seed: int = 7) -> None:
        super().__init__()
        self.mode = mode
        self._random = random.Random(seed)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not await reader.read(4096):
            return
        while not writer.is_closing():
            writer.write(self._garbage())
            await writer.drain()
            if self.mode == "close":
                return
            await asyncio.sleep(0.05)

    def _garbage(self) -> bytes:
        # Not even by chance a status line: RTSP and HTTP replies start with a letter.
        return b"\x00\xff" + self._random.randbytes(GARBAGE_CHUNK - 2)


class RefusingPort:
    """A loopback port bound but never listening: connecting gets ECONNREFUSED.

    Holding the bound socket (rather than binding and closing) keeps any other program from
    taking the port while a test uses it.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((host, 0))
        self.port: int = self._socket.getsockname()[1]

    def url(self, path: str = "/stream") -> str:
        return f"rtsp://{self.host}:{self.port}{path}"

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def refused_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago and has no listener; prefer :class:`RefusingPort`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


def unresolvable_host() -> str:
    """A name that never resolves: ``.invalid`` is reserved for that (RFC 2606, RFC 6761)."""
    return f"camera-{secrets.token_hex(4)}.invalid"
