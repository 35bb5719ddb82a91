"""HTTP API for watching cameras: stream URLs, snapshots, who watched, saved grid layouts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from dieuhanh.cameras import service
from dieuhanh.cameras import stream_tokens as tokens
from dieuhanh.cameras.models import CameraLayout, CameraSnapshot, CameraView
from dieuhanh.cameras.monitor import HealthMonitor
from dieuhanh.cameras.schemas import StatusOut
from dieuhanh.core.access import Permission, require
from dieuhanh.core.errors import InvalidInput, NotFound, Unavailable
from dieuhanh.core.http.deps import CurrentPrincipal, Db, client_ip, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.runtime import Runtime
from dieuhanh.gateway import nodes
from dieuhanh.gateway.service import StreamKey, TranscodeLimit
from dieuhanh.gateway.snapshot import jpeg_from_segments

router = api_router("camera streams")
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
BROWSER_CODECS = {"avc1": "h264", "hvc1": "h265", "hev1": "h265"}


class StreamOut(BaseModel):
    mse_url: str = Field(description="WebSocket: init segment, then fMP4 fragments")
    hls_url: str = Field(description="HLS (fMP4) master playlist, for browsers without MSE")
    snapshot_url: str
    codec: str = Field(description="What the browser receives: h264 or h265")
    source_codec: str | None = Field(description="What the camera sends")
    transcoded: bool
    quality: str
    expires_at: datetime
    node: str
    status: StatusOut


@router.get(
    "/cameras/{camera_id:int}/stream",
    response_model=StreamOut,
    summary="A short-lived URL to watch a camera",
    description="`codecs`: what this browser decodes (`MediaSource.isTypeSupported` of "
    "`avc1`/`hvc1`). H.265 is passed through when `hvc1` is listed, else transcoded to H.264. "
    "`quality=sub` prefers the camera's sub-stream (grid tiles). The URLs expire after "
    "`gateway.token_seconds`; an open stream continues while the login it was asked with (session "
    "or token) stands, checked every `gateway.credential_check_seconds`.",
)
async def stream_url(
    camera_id: int,
    request: Request,
    db: Db,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    codecs: Annotated[str, Query(max_length=100)] = "avc1",
    quality: Annotated[str, Query(pattern="^(main|sub)$")] = "main",
) -> StreamOut:
    camera = service.get_camera(db, camera_id, principal)
    if camera.status is None or camera.status.codec is None:
        # Never probed: learn the codec now, to choose passthrough or transcoding (only the
        # codec: the monitor's next round checks the picture).
        await run_in_threadpool(HealthMonitor(runtime).probe_now, db, camera, False)
        db.commit()
    source = camera.status.codec if camera.status else None
    output, codec = choose_output(source, codecs)
    if quality == "sub" and not camera.sub_stream_url and output == "copy":
        # No sub-stream: passed through, a tile is the main stream (and shares its pull);
        # transcoded, "sub" still makes the transcoder scale it down to a tile.
        quality = "main"
    node_id, base = _node_for(request, db, runtime, camera.id)
    _check_transcode_slot(request, StreamKey(camera.id, quality, output))
    view = CameraView(
        camera_id=camera.id, unit_id=camera.unit_id, user_id=principal.user_id,
        username=principal.username, client_ip=client_ip(request), quality=quality, codec=codec,
        transcoded=output != "copy",
    )  # fmt: skip
    db.add(view)
    db.commit()
    expires = datetime.now(UTC) + timedelta(seconds=runtime.settings.gateway.token_seconds)
    token = tokens.sign(
        tokens.StreamClaims(
            camera.id,
            principal.user_id,
            quality,
            output,
            view.id,
            int(expires.timestamp()),
            credential=principal.credential or "",
        ),
        _secret(runtime),
    )
    http = f"{base}/gw/v1/cameras/{camera.id}"
    ws = http.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return StreamOut(
        mse_url=f"{ws}/mse?token={token}",
        hls_url=f"{http}/hls/master.m3u8?token={token}",
        snapshot_url=str(request.url_for("camera_snapshot", camera_id=camera.id)),
        codec=codec, source_codec=source, transcoded=output != "copy", quality=quality,
        expires_at=expires, node=node_id, status=StatusOut.of(camera.status),
    )  # fmt: skip


def choose_output(source: str | None, codecs: str) -> tuple[str, str]:
    """("copy" or "h264", the codec the browser gets) for a camera codec and browser codecs."""
    accepted = {BROWSER_CODECS[c.strip()] for c in codecs.split(",") if c.strip() in BROWSER_CODECS}
    if "h264" not in accepted and "h265" not in accepted:
        raise InvalidInput(
            "codecs must list what this browser decodes: avc1 (H.264) and/or hvc1 (H.265).",
            code="no_playable_codec",
        )
    if source in accepted:
        return "copy", str(source)
    if "h264" not in accepted:
        raise InvalidInput(
            f"This camera sends {source or 'an unknown codec'} and this browser decodes only "
            "H.265; the gateway transcodes to H.264 only.",
            code="no_playable_codec",
        )
    return ("copy", "h264") if source is None else ("h264", "h264")


def _secret(runtime: Runtime) -> bytes:
    if runtime.stream_secret is None:
        raise Unavailable("gateway.secret is not configured: stream URLs cannot be signed.",
                            code="gateway_not_configured")  # fmt: skip
    return runtime.stream_secret


def _node_for(request: Request, db: Db, runtime: Runtime, camera_id: int) -> tuple[str, str]:
    if runtime.settings.gateway.embedded:
        return "embedded", str(request.base_url).rstrip("/")
    alive = nodes.alive_nodes(db, runtime.settings.gateway.heartbeat_seconds)
    chosen = nodes.node_for(camera_id, [n.node_id for n in alive])
    if chosen is None:
        raise Unavailable("No gateway node is running: start `dieuhanh gateway`.",
                            code="no_gateway_node")  # fmt: skip
    record = next(n for n in alive if n.node_id == chosen)
    return record.node_id, record.public_url.rstrip("/")


def _check_transcode_slot(request: Request, key: StreamKey) -> None:
    """With the embedded gateway, a full transcoder is said at once, in the API's answer.
    Scaled out, the node decides (its socket closes with 4429 and the same words): only it
    knows whether this viewer joins a transcode already running."""
    node = getattr(request.app.state, "gateway_node", None)
    if key.output == "copy" or node is None or key in node.gateway.streams:
        return
    limit = node.gateway.settings.max_transcodes
    if node.gateway.transcodes >= limit:
        raise TranscodeLimit(
            f"All {limit} transcoding slots are in use (H.265 → H.264 for browsers without "
            "H.265); try again shortly, or use a browser that plays H.265.",
        )


@router.get(
    "/cameras/{camera_id:int}/snapshot.jpg",
    name="camera_snapshot",
    summary="The camera's latest picture (JPEG)",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def camera_snapshot(
    camera_id: int, request: Request, db: Db, principal: CurrentPrincipal
) -> Response:
    camera = service.get_camera(db, camera_id, principal)
    jpeg, taken = _live_snapshot(request, camera.id)
    if jpeg is None:
        stored = db.get(CameraSnapshot, camera.id)
        if stored is None:
            raise NotFound(f"No picture of {camera.name} yet: it has not been seen live.",
                           code="no_snapshot")  # fmt: skip
        jpeg, taken = stored.jpeg, stored.taken_at
    return Response(jpeg, media_type="image/jpeg", headers={
        "Cache-Control": "private, max-age=10", "Last-Modified": taken.strftime(
            "%a, %d %b %Y %H:%M:%S GMT") if taken else ""})  # fmt: skip


def _live_snapshot(request: Request, camera_id: int) -> tuple[bytes | None, datetime | None]:
    """From a stream this process is serving: its last keyframe, decoded from memory."""
    node = getattr(request.app.state, "gateway_node", None)
    if node is None:
        return None, None
    for key, stream in node.gateway.streams.items():
        hub = stream.hub
        if key.camera_id == camera_id and hub.init is not None and hub.cache:
            try:
                jpeg = jpeg_from_segments(hub.init.data, [f.data for f in hub.cache[:1]])
            except Exception:  # a damaged fragment: fall back to the stored picture
                return None, None
            return jpeg, datetime.now(UTC)
    return None, None


class ViewOut(BaseModel):
    id: int
    username: str
    client_ip: str | None
    quality: str
    codec: str
    transcoded: bool
    node: str | None
    issued_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    bytes_sent: int


@router.get(
    "/cameras/{camera_id:int}/views",
    response_model=list[ViewOut],
    summary="Who watched this camera, newest first",
)
def camera_views(
    camera_id: int, db: Db, principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ViewOut]:  # fmt: skip
    require(principal, Permission.VIEW_AUDIT)
    camera = service.get_camera(db, camera_id, principal)
    rows = db.scalars(select(CameraView).where(CameraView.camera_id == camera.id)
                      .order_by(CameraView.id.desc()).limit(limit))  # fmt: skip
    return [ViewOut.model_validate(row, from_attributes=True) for row in rows]


class LayoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    size: int = Field(description="Tiles: 1, 4, 9 or 16")
    camera_ids: list[int | None] = Field(max_length=16)
    rotate_seconds: int = Field(default=30, ge=5, le=3600)
    position: int = Field(default=0, ge=0, le=1000)


class LayoutOut(LayoutIn):
    id: int


@router.get("/camera-layouts", response_model=list[LayoutOut], summary="My saved grids")
def list_layouts(db: Db, principal: CurrentPrincipal) -> list[LayoutOut]:
    rows = db.scalars(select(CameraLayout).where(CameraLayout.user_id == principal.user_id)
                      .order_by(CameraLayout.position, CameraLayout.id))  # fmt: skip
    return [LayoutOut.model_validate(row, from_attributes=True) for row in rows]


@router.post("/camera-layouts", response_model=LayoutOut, status_code=201, summary="Save a grid")
def create_layout(body: LayoutIn, db: Db, principal: CurrentPrincipal) -> LayoutOut:
    layout = CameraLayout(user_id=principal.user_id, **_checked_layout(db, principal, body))
    db.add(layout)
    db.commit()
    return LayoutOut.model_validate(layout, from_attributes=True)


@router.put("/camera-layouts/{layout_id:int}", response_model=LayoutOut, summary="Change a grid")
def update_layout(layout_id: int, body: LayoutIn, db: Db, principal: CurrentPrincipal) -> LayoutOut:
    layout = _own_layout(db, principal.user_id, layout_id)
    for key, value in _checked_layout(db, principal, body).items():
        setattr(layout, key, value)
    db.commit()
    return LayoutOut.model_validate(layout, from_attributes=True)


@router.delete("/camera-layouts/{layout_id:int}", status_code=204, summary="Delete a grid")
def delete_layout(layout_id: int, db: Db, principal: CurrentPrincipal) -> Response:
    db.delete(_own_layout(db, principal.user_id, layout_id))
    db.commit()
    return Response(status_code=204)


def _own_layout(db: Db, user_id: int, layout_id: int) -> CameraLayout:
    layout = db.get(CameraLayout, layout_id)
    if layout is None or layout.user_id != user_id:
        raise NotFound(f"No layout {layout_id} of yours.", code="layout_not_found")
    return layout


def _checked_layout(db: Db, principal: CurrentPrincipal, body: LayoutIn) -> dict[str, Any]:
    if body.size not in (1, 4, 9, 16):
        raise InvalidInput("size must be 1, 4, 9 or 16 tiles.", code="invalid_layout")
    if len(body.camera_ids) > body.size:
        raise InvalidInput(f"{len(body.camera_ids)} cameras do not fit in {body.size} tiles.",
                           code="invalid_layout")  # fmt: skip
    for camera_id in {c for c in body.camera_ids if c is not None}:
        service.get_camera(db, camera_id, principal)  # must exist and be visible to this person
    return body.model_dump()


class NodeOut(BaseModel):
    node_id: str
    public_url: str
    heartbeat_at: datetime | None
    streams: int
    viewers: int
    transcodes: int
    max_transcodes: int


@router.get("/gateway/nodes", response_model=list[NodeOut], summary="Gateway nodes and their load")
def gateway_nodes(request: Request, db: Db, principal: CurrentPrincipal,
                  runtime: RuntimeDep) -> list[NodeOut]:  # fmt: skip
    require(principal, Permission.READ_ALL)
    node = getattr(request.app.state, "gateway_node", None)
    if runtime.settings.gateway.embedded and node is not None:
        stats = node.gateway.stats()
        return [NodeOut(node_id="embedded", public_url=str(request.base_url).rstrip("/"),
                        heartbeat_at=None, streams=stats["streams"], viewers=stats["viewers"],
                        transcodes=stats["transcodes"],
                        max_transcodes=runtime.settings.gateway.max_transcodes)]  # fmt: skip
    alive = nodes.alive_nodes(db, runtime.settings.gateway.heartbeat_seconds)
    return [NodeOut.model_validate(n, from_attributes=True) for n in alive]
