"""A gateway node: the streams it serves, the stream tokens it accepts, its HLS sessions, and
the record of who watched what."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field

from sqlalchemy import update

from dieuhanh.auth.credentials import credential_valid
from dieuhanh.cameras.models import Camera
from dieuhanh.cameras.service import open_url
from dieuhanh.db.base import utcnow
from dieuhanh.errors import Forbidden, NotFound, Unauthorized
from dieuhanh.gateway import tokens
from dieuhanh.gateway.hub import Hub
from dieuhanh.gateway.models import CameraView
from dieuhanh.gateway.pull import PassthroughPull
from dieuhanh.gateway.rtsp_pull import RtspPull
from dieuhanh.gateway.service import Gateway, Pull, StreamKey
from dieuhanh.runtime import Runtime

LOGIN_ENDED = "login_ended: the viewer's login ended (password changed, logged out or disabled)"


@dataclass
class HlsSession:
    key: StreamKey
    claims: tokens.StreamClaims
    seen_at: float = field(default_factory=time.monotonic)
    login_checked_at: float = field(default_factory=time.monotonic)


class GatewayNode:
    def __init__(self, runtime: Runtime, node_id: str = "embedded") -> None:
        self.runtime = runtime
        self.node_id = node_id
        self.settings = runtime.settings.gateway
        self.gateway = Gateway(self.settings, self._make_pull)
        self.hls_sessions: dict[str, HlsSession] = {}

    # -- tokens -----------------------------------------------------------------------------

    def check(self, token: str, camera_id: int) -> tokens.StreamClaims:
        if self.runtime.stream_secret is None:
            raise Unauthorized("This node has no stream key configured (gateway.secret).",
                               code="gateway_not_configured")  # fmt: skip
        claims = tokens.verify(token, self.runtime.stream_secret)
        if claims.camera_id != camera_id:
            raise Forbidden("The stream token is for another camera.", code="wrong_camera")
        return claims

    @staticmethod
    def key_of(claims: tokens.StreamClaims) -> StreamKey:
        return StreamKey(claims.camera_id, claims.quality, claims.output)

    # -- pulls ------------------------------------------------------------------------------

    def _make_pull(self, key: StreamKey, hub: Hub, loop: asyncio.AbstractEventLoop) -> Pull:
        def urls() -> tuple[str, list[str]]:
            with self.runtime.sessions() as session:
                camera = session.get(Camera, key.camera_id)
                if camera is None:
                    raise NotFound(f"No camera {key.camera_id}.", code="camera_not_found")
                return open_url(camera, self.runtime.credentials, sub_stream=key.quality == "sub")

        timeout = self.runtime.settings.cameras.monitor.timeout_seconds
        if key.output == "copy":
            if self.settings.rtsp_client == "native":
                return RtspPull(hub, urls, loop, timeout=timeout)
            return PassthroughPull(hub, urls, loop, timeout=timeout)
        from dieuhanh.gateway.transcode import TranscodePull

        width = self.settings.tile_width if key.quality == "sub" else None
        return TranscodePull(hub, urls, loop, self.settings, max_width=width, timeout=timeout)

    # -- HLS sessions -----------------------------------------------------------------------

    def open_hls(self, claims: tokens.StreamClaims) -> str:
        self._expire_hls()
        session_id = secrets.token_urlsafe(16)
        self.hls_sessions[session_id] = HlsSession(self.key_of(claims), claims)
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
            if not self.login_stands(current.claims):
                self.hls_sessions.pop(session_id, None)
                raise Unauthorized(LOGIN_ENDED, code="login_ended")
        current.seen_at = now
        return current

    def _expire_hls(self) -> None:
        limit = time.monotonic() - max(self.settings.idle_seconds, 30)
        for session_id in [k for k, v in self.hls_sessions.items() if v.seen_at < limit]:
            del self.hls_sessions[session_id]

    # -- the viewer's login ------------------------------------------------------------------

    def login_stands(self, claims: tokens.StreamClaims) -> bool:
        """Whether the session or token the stream was asked with still lets its viewer in (a
        password change, a disabled account or a logout ends it). Reads the database."""
        with self.runtime.sessions() as session:
            return credential_valid(session, claims.user_id, claims.credential)

    # -- who watched ------------------------------------------------------------------------

    def view_started(self, claims: tokens.StreamClaims) -> None:
        with self.runtime.sessions() as session:
            session.execute(
                update(CameraView)
                .where(CameraView.id == claims.view_id, CameraView.started_at.is_(None))
                .values(started_at=utcnow(), node=self.node_id)
            )
            session.commit()

    def view_ended(self, claims: tokens.StreamClaims, sent_bytes: int) -> None:
        with self.runtime.sessions() as session:
            session.execute(
                update(CameraView)
                .where(CameraView.id == claims.view_id)
                .values(ended_at=utcnow(), bytes_sent=CameraView.bytes_sent + sent_bytes)
            )
            session.commit()
