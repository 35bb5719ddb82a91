"""The cameras' side of the stream gateway: which URL to pull, who may watch, who watched.

The gateway knows no cameras (``gateway.node``). It asks a ``SourceOpener`` for the URL of a
stream key — here: the camera's main or sub stream, with its credentials put back in memory —
and a ``ViewerGate`` to check stream tokens and record viewings (``camera_views``).
"""

from __future__ import annotations

from sqlalchemy import update

from dieuhanh.auth.credentials import credential_valid
from dieuhanh.cameras import stream_tokens
from dieuhanh.cameras.models import Camera, CameraView
from dieuhanh.cameras.service import open_url
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import Forbidden, NotFound, Unauthorized
from dieuhanh.core.network import NetworkPolicy
from dieuhanh.core.runtime import Runtime
from dieuhanh.gateway.node import Admission, GatewayNode, SourceOpener
from dieuhanh.gateway.service import StreamKey


def camera_source_opener(runtime: Runtime) -> SourceOpener:
    def open_source(key: StreamKey) -> tuple[str, list[str]]:
        with runtime.sessions() as session:
            camera = session.get(Camera, key.camera_id)
            if camera is None:
                raise NotFound(f"No camera {key.camera_id}.", code="camera_not_found")
            return open_url(camera, runtime.credentials, sub_stream=key.quality == "sub")

    return open_source


class CameraViewerGate:
    """Admits the holders of stream tokens the API signed; records each viewing."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def admit(self, token: str, source_id: int) -> Admission:
        if self.runtime.stream_secret is None:
            raise Unauthorized("This node has no stream key configured (gateway.secret).",
                               code="gateway_not_configured")  # fmt: skip
        claims = stream_tokens.verify(token, self.runtime.stream_secret)
        if claims.camera_id != source_id:
            raise Forbidden("The stream token is for another camera.", code="wrong_camera")
        key = StreamKey(claims.camera_id, claims.quality, claims.output)
        return Admission(key=key, ticket=claims, expires_at=float(claims.expires_at))

    def started(self, admission: Admission, node_id: str) -> None:
        claims = _claims(admission)
        with self.runtime.sessions() as session:
            session.execute(
                update(CameraView)
                .where(CameraView.id == claims.view_id, CameraView.started_at.is_(None))
                .values(started_at=utcnow(), node=node_id)
            )
            session.commit()

    def ended(self, admission: Admission, sent_bytes: int) -> None:
        claims = _claims(admission)
        with self.runtime.sessions() as session:
            session.execute(
                update(CameraView)
                .where(CameraView.id == claims.view_id)
                .values(ended_at=utcnow(), bytes_sent=CameraView.bytes_sent + sent_bytes)
            )
            session.commit()

    def still_admitted(self, admission: Admission) -> bool:
        claims = _claims(admission)
        with self.runtime.sessions() as session:
            return credential_valid(session, claims.user_id, claims.credential)


def _claims(admission: Admission) -> stream_tokens.StreamClaims:
    assert isinstance(admission.ticket, stream_tokens.StreamClaims)
    return admission.ticket


def camera_gateway_node(runtime: Runtime, node_id: str = "embedded") -> GatewayNode:
    """A gateway node serving this installation's cameras (embedded, or `dieuhanh gateway`)."""
    return GatewayNode(
        runtime.settings.gateway,
        camera_source_opener(runtime),
        CameraViewerGate(runtime),
        policy=NetworkPolicy.of_settings(runtime.settings.cameras),
        node_id=node_id,
        connect_timeout=runtime.settings.cameras.monitor.timeout_seconds,
    )
