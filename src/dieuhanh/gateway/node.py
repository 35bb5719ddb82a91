"""A gateway node: the streams it serves and its HLS sessions, for whoever embeds it.

The gateway is a media engine that knows no cameras. Its embedder gives it two things: a
``SourceOpener`` (the URL to pull for a stream key, and the secrets to scrub from messages) and a
``ViewerGate`` (who may watch — it checks the stream token — and the record of who watched).
The cameras capability provides both (``cameras.streams``).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from dieuhanh.core.config import GatewaySettings
from dieuhanh.core.errors import NotFound, Unauthorized
from dieuhanh.core.network import NetworkPolicy
from dieuhanh.gateway.hub import Hub
from dieuhanh.gateway.pull import PassthroughPull
from dieuhanh.gateway.rtsp_pull import RtspPull
from dieuhanh.gateway.service import Gateway, Pull, StreamKey

# The URL to pull for a stream, and secrets that must never appear in a message about it.
SourceOpener = Callable[[StreamKey], tuple[str, list[str]]]


@dataclass(frozen=True)
class Admission:
    """A viewer let in: the stream it may watch and the gate's own record of the viewing."""

    key: StreamKey
    ticket: object
    expires_at: float  # Unix seconds: when the token that let it in runs out


class ViewerGate(Protocol):
    def admit(self, token: str, source_id: int) -> Admission:
        """Check a stream token for this source; raise Unauthorized or Forbidden."""

    def started(self, admission: Admission, node_id: str) -> None:
        """The viewer received its first bytes on this node."""

    def ended(self, admission: Admission, sent_bytes: int) -> None:
        """The viewer left."""

    def still_admitted(self, admission: Admission) -> bool:
        """Whether the login the viewer was admitted with still stands (a password change, a
        disabled account or a logout ends it); asked every ``credential_check_seconds``."""


LOGIN_ENDED = "login_ended: the viewer's login ended (password changed, logged out or disabled)"


@dataclass
class HlsSession:
    admission: Admission
    seen_at: float = field(default_factory=time.monotonic)
    login_checked_at: float = field(default_factory=time.monotonic)

    @property
    def key(self) -> StreamKey:
        return self.admission.key


class GatewayNode:
    def __init__(
        self,
        settings: GatewaySettings,
        open_source: SourceOpener,
        gate: ViewerGate,
        *,
        policy: NetworkPolicy,
        node_id: str = "embedded",
        connect_timeout: float = 5.0,
    ) -> None:
        self.settings = settings
        self.open_source = open_source
        self.gate = gate
        self.node_id = node_id
        # How long a camera may take to answer; a viewer waits about twice that for a picture.
        self.connect_timeout = connect_timeout
        self.gateway = Gateway(settings, self._make_pull)
        # Where sources may be: checked on the resolved address at every connect.
        self.networks = policy
        self.hls_sessions: dict[str, HlsSession] = {}
        self.wall_clock: Callable[[], float] = time.time  # Unix seconds, as tokens' expiry

    # -- pulls ------------------------------------------------------------------------------

    def _make_pull(self, key: StreamKey, hub: Hub, loop: asyncio.AbstractEventLoop) -> Pull:
        def urls() -> tuple[str, list[str]]:
            return self.open_source(key)

        timeout = self.connect_timeout
        if key.output == "copy":
            if self.settings.rtsp_client == "native":
                watchdog = self.gateway.watchdog
                return RtspPull(
                    hub, urls, loop, timeout=timeout, watchdog=watchdog, policy=self.networks
                )
            return PassthroughPull(hub, urls, loop, timeout=timeout, policy=self.networks)
        from dieuhanh.gateway.transcode import TranscodePull

        width = self.settings.tile_width if key.quality == "sub" else None
        networks = [str(network) for network in self.networks.allowed]
        return TranscodePull(hub, urls, loop, self.settings, width, timeout, networks)

    # -- HLS sessions -----------------------------------------------------------------------

    def open_hls(self, admission: Admission) -> str:
        self._expire_hls()
        session_id = secrets.token_urlsafe(16)
        self.hls_sessions[session_id] = HlsSession(admission)
        return session_id

    def hls(self, session_id: str) -> HlsSession:
        """Called from worker threads (the HLS routes are synchronous): may read the database."""
        self._expire_hls()
        current = self.hls_sessions.get(session_id)
        if current is None:
            raise NotFound(
                "This HLS session has ended; reload the player.", code="hls_session_ended"
            )
        now = time.monotonic()
        if now - current.login_checked_at >= self.settings.credential_check_seconds:
            current.login_checked_at = now
            if not self.gate.still_admitted(current.admission):
                self.hls_sessions.pop(session_id, None)
                raise Unauthorized(LOGIN_ENDED, code="login_ended")
        current.seen_at = now
        return current

    def _expire_hls(self) -> None:
        """Idle sessions end; so does every session some time after its token expired, however
        often it is polled: a viewer whose rights were withdrawn must not watch on for ever."""
        idle_limit = time.monotonic() - max(self.settings.idle_seconds, 30)
        now = self.wall_clock()
        lifetime = self.settings.hls_session_seconds
        for session_id, session in list(self.hls_sessions.items()):
            if session.seen_at < idle_limit or now >= session.admission.expires_at + lifetime:
                del self.hls_sessions[session_id]
