"""One client connection: the RTSP dialogue and, once playing, the interleaved RTP it receives.

One connection holds at most one session, as with FFmpeg, VLC and live555 clients. Requests and
the client's own interleaved packets (RTCP receiver reports) share the socket; the latter are
read and discarded. A connection silent for longer than the session timeout is closed, as many
cameras do (clients keep sessions alive with GET_PARAMETER or OPTIONS).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from dieuhanh.simulator.live_sender import LiveSender
from dieuhanh.simulator.live_source import LiveSourceError
from dieuhanh.simulator.media import LiveTrack, MediaTrack
from dieuhanh.simulator.mounts import Mount, MountTable
from dieuhanh.simulator.rtsp import (
    METHODS,
    BadRequest,
    Request,
    Response,
    content_length,
    parse_head,
    parse_transport,
)
from dieuhanh.simulator.sdp import session_description
from dieuhanh.simulator.streaming import FlowLimits, TrackSender

logger = logging.getLogger(__name__)

Sender = TrackSender | LiveSender
Handler = Callable[[Request, Mount, str], Awaitable[Response]]


@dataclass(frozen=True)
class ConnectionSettings:
    session_timeout: int = 60  # seconds, announced in the Session header
    limits: FlowLimits = field(default_factory=FlowLimits)


class RtspConnection:
    def __init__(
        self,
        mounts: MountTable,
        settings: ConnectionSettings,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.mounts, self.settings, self.reader, self.writer = mounts, settings, reader, writer
        self.mount: Mount | None = None
        self.session_id: str | None = None
        self.senders: dict[int, Sender] = {}
        self.stall_at: float | None = None
        self._handlers: dict[str, Handler] = {
            "DESCRIBE": self._describe,
            "SETUP": self._setup,
            "PLAY": self._play,
            "PAUSE": self._pause,
            "GET_PARAMETER": self._get_parameter,
            "TEARDOWN": self._teardown,
        }

    async def serve(self) -> None:
        try:
            while True:
                request = await asyncio.wait_for(self._read(), self.settings.session_timeout)
                if request is not None:
                    await self._answer(request)
        except BadRequest as exc:
            logger.debug("closing a connection that sent no RTSP: %s", exc)
            self.writer.write(Response(400).encode(None))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass  # the client went away or sent an oversized head
        except TimeoutError:
            logger.debug("closing a connection silent for %d s", self.settings.session_timeout)
        finally:
            self._stop_senders()
            self.writer.close()

    async def _read(self) -> Request | None:
        """The next request, or None for the client's interleaved RTCP and stray line ends."""
        first = await self.reader.readexactly(1)
        if first == b"$":
            header = await self.reader.readexactly(3)
            await self.reader.readexactly(int.from_bytes(header[1:3], "big"))
            return None
        if first in (b"\r", b"\n"):
            return None
        head = first + await self.reader.readuntil(b"\r\n\r\n")
        request = parse_head(head[:-4])
        body = await self.reader.readexactly(content_length(request))
        return Request(request.method, request.uri, request.version, request.headers, body)

    async def _answer(self, request: Request) -> None:
        logger.debug("%s %s", request.method, request.uri)
        supported = request.version == "RTSP/1.0"
        response = await self._dispatch(request) if supported else Response(505)
        # Written before any RTP of a PLAY: the senders only write once the loop turns.
        self.writer.write(response.encode(request.header("CSeq")))

    async def _dispatch(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(200, [("Public", ", ".join(METHODS))])
        if request.method not in METHODS:
            return Response(501, [("Allow", ", ".join(METHODS))])
        if request.session_id is not None and request.session_id != self.session_id:
            return Response(454)
        resolved = self.mounts.resolve(request.path)
        mount = resolved[0] if resolved else None
        if request.session_id is not None:
            mount = self.mount  # GET_PARAMETER and PLAY may name the aggregate URL or "*"
        if mount is None:
            return Response(404)
        denied = self._check_auth(mount, request)
        if denied is not None:
            return denied
        handler = self._handlers[request.method]
        rest = resolved[1] if resolved and resolved[0] is mount else ""
        try:
            return await handler(request, mount, rest)
        except LiveSourceError as exc:
            logger.warning("%s %s: %s", request.method, mount.camera.path, exc)
            return Response(503)

    def _check_auth(self, mount: Mount, request: Request) -> Response | None:
        authenticator = mount.authenticator
        if authenticator is None or authenticator.accepts(
            request.method, request.header("Authorization")
        ):
            return None
        return Response(401, authenticator.challenges())

    async def _describe(self, request: Request, mount: Mount, rest: str) -> Response:
        await mount.prepare()  # a live source's SDP needs its encoder's parameter sets
        medias = [track.description for track in mount.tracks]
        host = urlsplit(request.uri).hostname or "127.0.0.1"
        sdp = session_description(medias, host, secrets.randbits(31), "DieuHanh simulated camera")
        headers = [
            ("Content-Base", f"{self._base_url(request, mount)}/"),
            ("Content-Type", "application/sdp"),
        ]
        return Response(200, headers, sdp.encode("ascii"))

    async def _setup(self, request: Request, mount: Mount, rest: str) -> Response:
        index = mount.track_index(rest)
        if index is None:
            return Response(404)
        if self.session_id is not None and request.session_id is None:
            return Response(459)  # a second session on one connection: not supported
        transport = parse_transport(request.header("Transport"), default_channel=2 * index)
        if transport is None:
            return Response(461)  # UDP only: FFmpeg and others then retry over TCP
        sender = self.senders.get(index)
        if sender is None:
            channels = (transport.rtp_channel, transport.rtcp_channel)
            sender = self._new_sender(mount.tracks[index], channels)
            self.senders[index] = sender
        self.mount = mount
        self.session_id = self.session_id or secrets.token_hex(8).upper()
        headers = [("Transport", transport.header(sender.ssrc)), self._session_header()]
        return Response(200, headers)

    async def _play(self, request: Request, mount: Mount, rest: str) -> Response:
        if not self._in_session(request):
            return Response(454)
        await mount.prepare()  # started again if it went idle since DESCRIBE (or none came)
        loop = asyncio.get_running_loop()
        stall_after = mount.camera.stall_after
        if self.stall_at is None and stall_after is not None:
            self.stall_at = loop.time() + stall_after
        base = self._base_url(request, mount)
        infos = []
        for index, sender in sorted(self.senders.items()):
            sequence, rtptime = sender.play(self.stall_at)
            infos.append(f"url={base}/trackID={index};seq={sequence};rtptime={rtptime}")
        headers = [("Range", "npt=0.000-"), ("RTP-Info", ",".join(infos)), self._session_header()]
        return Response(200, headers)

    async def _pause(self, request: Request, mount: Mount, rest: str) -> Response:
        if not self._in_session(request):
            return Response(454)
        for sender in self.senders.values():
            sender.pause()
        return Response(200, [self._session_header()])

    async def _get_parameter(self, request: Request, mount: Mount, rest: str) -> Response:
        headers = [self._session_header()] if self.session_id else []
        return Response(200, headers)

    async def _teardown(self, request: Request, mount: Mount, rest: str) -> Response:
        if not self._in_session(request):
            return Response(454)
        self._stop_senders()
        self.senders.clear()
        self.mount = self.session_id = self.stall_at = None
        return Response(200)

    def _new_sender(self, track: MediaTrack, channels: tuple[int, int]) -> Sender:
        transport, limits = self.writer.transport, self.settings.limits
        if isinstance(track, LiveTrack):
            return LiveSender(track.source, transport, channels, limits)
        return TrackSender(track, transport, channels, limits)

    def _in_session(self, request: Request) -> bool:
        return self.session_id is not None and request.session_id == self.session_id

    def _session_header(self) -> tuple[str, str]:
        return ("Session", f"{self.session_id};timeout={self.settings.session_timeout}")

    def _stop_senders(self) -> None:
        for sender in self.senders.values():
            sender.pause()

    @staticmethod
    def _base_url(request: Request, mount: Mount) -> str:
        # The URL as the client used it, minus any user:password@ a client left in.
        netloc = urlsplit(request.uri).netloc.rpartition("@")[2]
        return f"rtsp://{netloc}{mount.camera.path}"
