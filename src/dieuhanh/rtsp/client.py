"""An RTSP session over TCP (RFC 2326): DESCRIBE, SETUP of the video track, PLAY, keep-alives.

RTP arrives interleaved on the same connection (``$``, channel, length, packet) between RTSP
responses; an ``asyncio.Protocol`` splits both out of each chunk the kernel hands over, without a
coroutine switch per packet (``framing.py``, bounded; a burst is handled a slice per turn of the
event loop, reading paused meanwhile). Failures raise ``RtspError`` with the reasons the monitor
gives (``dns``, ``refused``, ``timeout``, ``unauthorized``, ``not_found``, ``protocol_error``,
``no_video``, ``unsupported_codec``, ``stalled``), so a viewer reads the same words as the list.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import re
import socket
import time
from collections.abc import Callable
from typing import cast
from urllib.parse import unquote, urlsplit, urlunsplit

from dieuhanh.rtsp.auth import Credentials
from dieuhanh.rtsp.errors import RtspError, protocol_error
from dieuhanh.rtsp.framing import MAX_JUNK_BYTES, Framer
from dieuhanh.rtsp.head import MAX_HEAD_BYTES, Response
from dieuhanh.rtsp.sdp import Media, parse_sdp, resolve_control

__all__ = ["MAX_HEADER_BYTES", "MAX_JUNK_BYTES", "Response", "RtspClient", "RtspError"]

USER_AGENT = "DieuHanh gateway"
MAX_HEADER_BYTES = MAX_HEAD_BYTES
VIDEO_CHANNEL = 0
_INTERLEAVED = re.compile(r"interleaved=([0-9]{1,6})(?![0-9])")
_SECONDS = re.compile(r"[0-9]{1,6}")

PacketHandler = Callable[[bytes], None]
BusyHandler = Callable[[float], None]  # seconds the loop spent on one slice of this camera


class _Protocol(asyncio.Protocol):
    def __init__(self, on_video: PacketHandler, on_busy: BusyHandler | None = None) -> None:
        self.on_video = on_video
        self.on_busy = on_busy
        self.transport: asyncio.Transport | None = None
        self.pending: dict[int, asyncio.Future[Response]] = {}
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.framer = Framer(self._packet, self._answered)
        self.last_video_at = time.monotonic()
        self.error: RtspError | None = None
        self.video_channel = VIDEO_CHANNEL
        self.other_frames = 0  # interleaved frames on channels not set up (RTCP, strays)
        self._resume: asyncio.Handle | None = None  # the rest of a burst, on the next turn

    @property
    def junk(self) -> int:
        return self.framer.junk

    @property
    def responses(self) -> int:
        return self.framer.responses

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        if self._resume is not None:
            self._resume.cancel()
        error = self.error or self._closed_error(exc)
        for future in self.pending.values():
            if not future.done():
                future.set_exception(error)
        self.pending.clear()
        if not self.closed.done():
            self.closed.set_result(None)

    def _closed_error(self, exc: Exception | None) -> RtspError:
        if self.junk and not self.responses:
            return RtspError("protocol_error", "the server answered, but not in RTSP")
        because = f" ({exc})" if exc else ""
        return RtspError("stalled", f"the camera closed the connection{because}")

    def data_received(self, data: bytes) -> None:
        self.framer.feed(data)
        if self._resume is None:
            self._process()

    def _process(self) -> None:
        """One burst of the buffer; the rest on the next turn, reading paused meanwhile."""
        self._resume = None
        transport = self.transport
        if self.error is not None or transport is None or transport.is_closing():
            return
        started = time.perf_counter()
        try:
            more = self.framer.split()
        except RtspError as exc:
            self._fail(exc)
            return
        finally:
            if self.on_busy is not None:
                self.on_busy(time.perf_counter() - started)
        if more and not transport.is_closing():
            transport.pause_reading()
            self._resume = asyncio.get_running_loop().call_soon(self._process)
        elif not transport.is_reading() and not transport.is_closing():
            transport.resume_reading()

    def _packet(self, channel: int, packet: bytes) -> None:
        if channel == self.video_channel:
            self.last_video_at = time.monotonic()
            self.on_video(packet)
        else:
            self.other_frames += 1  # RTCP and other channels: nothing we need over TCP

    def _answered(self, response: Response) -> None:
        cseq = response.cseq()
        key = cseq if cseq is not None else min(self.pending, default=None)
        future = self.pending.pop(key, None) if key is not None else None
        if future is not None and not future.done():
            future.set_result(response)

    def _fail(self, error: RtspError) -> None:
        self.error = error
        if self.transport is not None:
            self.transport.close()


class RtspClient:
    """One session with one camera: ``open()``, ``play()``, then ``run()`` until it fails."""

    def __init__(
        self,
        url: str,
        timeout: float,
        on_video: PacketHandler,
        on_busy: BusyHandler | None = None,
        address: str | None = None,
    ) -> None:
        """``address``: connect there (the host's address, already resolved and checked by the
        caller) rather than resolving the host again."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "rtsp" or not parts.hostname:
            raise RtspError("protocol_error", "the native client reads rtsp:// URLs only")
        self.host, self.port = parts.hostname, parts.port or 554
        self.address = address or self.host
        netloc = f"[{self.host}]" if ":" in self.host else self.host
        if parts.port:
            netloc += f":{parts.port}"
        self.url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        self.credentials = (
            Credentials(unquote(parts.username or ""), unquote(parts.password or ""))
            if parts.username is not None
            else None
        )
        self.timeout = timeout
        self.protocol = _Protocol(on_video, on_busy)
        self.cseq = 0
        self.session: str | None = None
        self.session_timeout = 60.0
        self.public: set[str] = set()
        self.media: Media | None = None
        self.aggregate = self.url
        self._keepalive: asyncio.Future[None] | None = None

    async def open(self) -> Media:
        """Connect, describe, and set up the video track; returns that track."""
        await self._connect()
        options = await self.request("OPTIONS", self.url)
        self.public = {m.strip().upper() for m in (options.header("public") or "").split(",")}
        described = await self.request("DESCRIBE", self.url, {"Accept": "application/sdp"})
        if "sdp" not in (described.header("content-type") or "application/sdp"):
            raise RtspError("protocol_error", "DESCRIBE returned no session description")
        sdp = parse_sdp(described.body.decode("utf-8", "replace"))
        video = sdp.video
        if video is None:
            raise RtspError("no_video", "the stream describes no video track")
        if video.codec is None:
            raise RtspError("unsupported_codec", f"cannot pass through {video.encoding or '?'}")
        base = described.header("content-base") or described.header("content-location") or self.url
        if sdp.control and sdp.control != "*":
            base = resolve_control(base, sdp.control)
        self.aggregate = base
        setup = await self.request(
            "SETUP", resolve_control(base, video.control),
            {"Transport": f"RTP/AVP/TCP;unicast;interleaved={VIDEO_CHANNEL}-{VIDEO_CHANNEL + 1}"},
        )  # fmt: skip
        self._use_session(setup.header("session") or "")
        self._use_transport(setup.header("transport") or "")
        self.media = video
        return video

    def _use_session(self, header: str) -> None:
        self.session, _, parameters = header.partition(";")
        if not self.session.isprintable():  # it goes back in each request: no line breaks
            raise protocol_error(f"a Session header with control characters: {header[:40]!r}")
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.lower() == "timeout" and _SECONDS.fullmatch(value) and int(value) > 0:
                self.session_timeout = float(value)

    def _use_transport(self, header: str) -> None:
        """The channel the camera will really send video on; most echo ours, some pick."""
        found = _INTERLEAVED.search(header)
        if found is None:
            return
        channel = int(found[1])
        if channel > 255:
            raise protocol_error(f"SETUP answered an interleaved channel {channel} (at most 255)")
        self.protocol.video_channel = channel

    async def play(self) -> None:
        """Start the packets; the caller's handler must be ready: the first is the keyframe."""
        await self.request("PLAY", self.aggregate, {"Range": "npt=0.000-"})
        self.protocol.last_video_at = time.monotonic()

    async def run(self) -> None:
        """Until the camera stops sending (``stalled``) or closes; keeps the session alive."""
        keepalive = max(5.0, self.session_timeout / 2)
        next_keepalive = time.monotonic() + keepalive
        check = min(1.0, self.timeout / 4)
        while True:
            done, _ = await asyncio.wait({self.protocol.closed}, timeout=check)
            if done:
                raise self.protocol.error or self.protocol._closed_error(None)
            now = time.monotonic()
            if now - self.protocol.last_video_at > self.timeout:
                raise RtspError("stalled", f"no video for {self.timeout:g} s")
            if now >= next_keepalive:
                next_keepalive = now + keepalive
                self._keepalive = asyncio.ensure_future(self._keep_alive())

    async def _keep_alive(self) -> None:
        method = "GET_PARAMETER" if "GET_PARAMETER" in self.public else "OPTIONS"
        with contextlib.suppress(RtspError):  # a lost keep-alive shows up as a stall soon enough
            await self.request(method, self.url)

    def close(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
        transport = self.protocol.transport
        if transport is None or transport.is_closing():
            return
        if self.session:
            with contextlib.suppress(OSError):
                transport.write(self._encode("TEARDOWN", self.url, {}))
        transport.close()

    async def request(
        self, method: str, url: str, headers: dict[str, str] | None = None
    ) -> Response:
        response = await self._send(method, url, headers or {})
        credentials = self.credentials
        if (
            response.status == 401
            and credentials is not None
            and not credentials.ready
            and credentials.challenged(response.headers.get("www-authenticate", []))
        ):
            response = await self._send(method, url, headers or {})
        if response.status in (401, 403):
            detail = "wrong user name or password" if self.credentials else "a login is required"
            raise RtspError("unauthorized", f"RTSP {response.status} {response.phrase}: {detail}")
        if response.status == 404:
            raise RtspError("not_found", f"RTSP 404 {response.phrase}: no stream at this path")
        if response.status == 461:
            raise RtspError("protocol_error", "the camera does not stream RTP over TCP (461)")
        if not 200 <= response.status < 300:
            raise RtspError("protocol_error", f"{method}: RTSP {response.status} {response.phrase}")
        return response

    async def _send(self, method: str, url: str, headers: dict[str, str]) -> Response:
        transport = self.protocol.transport
        if transport is None or transport.is_closing():
            raise self.protocol.error or RtspError("stalled", "the connection is closed")
        self.cseq += 1
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self.protocol.pending[self.cseq] = future
        transport.write(self._encode(method, url, headers))
        try:
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            self.protocol.pending.pop(self.cseq, None)
            if self.protocol.junk and not self.protocol.responses:
                raise RtspError("protocol_error", "the server answered, but not in RTSP") from None
            raise RtspError("timeout", f"connected, but no answer to {method} within "
                            f"{self.timeout:g} s") from None  # fmt: skip

    def _encode(self, method: str, url: str, headers: dict[str, str]) -> bytes:
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}", f"User-Agent: {USER_AGENT}"]
        if self.session:
            lines.append(f"Session: {self.session}")
        authorization = self.credentials.header(method, url) if self.credentials else None
        if authorization:
            lines.append(f"Authorization: {authorization}")
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: self.protocol, self.address, self.port),
                self.timeout,
            )
        except socket.gaierror as exc:
            raise RtspError("dns", f"{self.host} does not resolve ({exc.strerror})") from None
        except ConnectionRefusedError:
            raise RtspError("refused", f"connection refused by {self.host}:{self.port}") from None
        except TimeoutError:
            raise RtspError("timeout", f"no answer from {self.host}:{self.port} within "
                            f"{self.timeout:g} s") from None  # fmt: skip
        except OSError as exc:
            if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
                raise RtspError("refused", f"unreachable: {exc.strerror}") from None
            raise RtspError("refused", f"{type(exc).__name__}: {exc.strerror or exc}") from None
