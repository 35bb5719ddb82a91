"""What browsers fetch from a gateway node: fMP4 over WebSocket, HLS, with stream tokens.

The WebSocket sends binary messages: the init segment (``ftyp`` + ``moov``), then media
fragments (``moof`` + ``mdat``), the first starting at a keyframe; a new init segment follows if
the camera restarts. Text messages say what the camera is doing while the picture cannot
move: ``{"type": "status", "state": "offline", "reason", "detail", "since"}`` when it drops
(the socket stays open and the picture continues when it is back), ``{"type": "status",
"state": "live"}`` when it is back. Problems that end the socket have a close code and a reason
the player shows:

    4401 bad or expired token, or the viewer's login ended ("login_ended: …", checked every
         gateway.credential_check_seconds: password changed, account disabled, logged out)
    4403 token for another camera    4429 no transcoding slot
    4502 camera unreachable and never seen by this stream ("<reason>: <detail>")
    4504 no keyframe for too long, or a client that stopped reading
    4500 the stream stopped (the player reconnects)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Annotated

from fastapi import APIRouter, Query, Request, WebSocket
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from dieuhanh.core.errors import DieuhanhError, Forbidden, NotFound, Unavailable
from dieuhanh.gateway.hub import Viewer
from dieuhanh.gateway.node import LOGIN_ENDED, Admission, GatewayNode
from dieuhanh.gateway.service import Stream, TranscodeLimit

log = logging.getLogger(__name__)
router = APIRouter(prefix="/gw/v1", include_in_schema=False)
NO_KEYFRAME_SECONDS = 30  # a viewer waiting this long for a first picture is told why
SEND_TIMEOUT = 30  # a client that stops reading for this long is disconnected
MP4 = "video/mp4"
M3U8 = "application/vnd.apple.mpegurl"


def node_of(scope: Request | WebSocket) -> GatewayNode:
    node: GatewayNode = scope.app.state.gateway_node
    return node


@router.websocket("/cameras/{camera_id}/mse")
async def mse(websocket: WebSocket, camera_id: int, token: str = "") -> None:
    await websocket.accept()
    node = node_of(websocket)
    try:
        admission = node.gate.admit(token, camera_id)
        stream, viewer = node.gateway.attach(admission.key)
    except TranscodeLimit as exc:
        await websocket.close(code=4429, reason=exc.message[:120])
        return
    except DieuhanhError as exc:
        await websocket.close(code=4403 if isinstance(exc, Forbidden) else 4401, reason=exc.code)
        return
    await run_in_threadpool(node.gate.started, admission, node.node_id)
    login_ended = asyncio.Event()
    sender = asyncio.create_task(_send(websocket, stream, viewer, node, login_ended))
    receiver = asyncio.create_task(_drain(websocket))
    watcher = asyncio.create_task(_watch_login(node, admission, login_ended))
    try:
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver, watcher):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        node.gateway.detach(stream, viewer)
        await run_in_threadpool(node.gate.ended, admission, viewer.stats.sent_bytes)


async def _send(
    websocket: WebSocket,
    stream: Stream,
    viewer: Viewer,
    node: GatewayNode,
    login_ended: asyncio.Event,
) -> None:
    attached = time.monotonic()
    patience = node.connect_timeout * 2 + 2
    while True:
        if login_ended.is_set():  # closed here, between two messages, never during one
            await websocket.close(code=4401, reason=LOGIN_ENDED)
            return
        try:
            data = await asyncio.wait_for(viewer.next(), timeout=1.0)
        except TimeoutError:
            waited = time.monotonic() - attached
            if stream.hub.init is None and stream.hub.error and waited > patience:
                await websocket.close(code=4502, reason=stream.hub.error[:120])
                return
            if not viewer.started_video and waited > NO_KEYFRAME_SECONDS:
                reason = "no_keyframe: the camera sent no keyframe for 30 s"
                await websocket.close(code=4504, reason=reason)
                return
            continue
        if data is None:
            await websocket.close(code=4500, reason=(viewer.closed_reason or "stopped")[:120])
            return
        try:
            if isinstance(data, str):
                await asyncio.wait_for(websocket.send_text(data), timeout=SEND_TIMEOUT)
            else:
                await asyncio.wait_for(websocket.send_bytes(data), timeout=SEND_TIMEOUT)
        except TimeoutError:
            await websocket.close(code=4504, reason="slow_client: the viewer stopped reading")
            return


async def _watch_login(node: GatewayNode, admission: Admission, ended: asyncio.Event) -> None:
    """Sets ``ended`` when the viewer's session or token no longer stands: a password change, a
    disabled account or a logout must not leave a stream playing (issue #10, finding 5)."""
    while not ended.is_set():
        await asyncio.sleep(node.settings.credential_check_seconds)
        try:
            stands = await run_in_threadpool(node.gate.still_admitted, admission)
        except Exception as exc:  # a database hiccup ends no stream: checked again next time
            log.warning(
                "stream %s: its viewer's login could not be checked: %s", admission.key, exc
            )
            continue
        if not stands:
            ended.set()


async def _drain(websocket: WebSocket) -> None:
    """Reads (and ignores) what the browser sends, to notice when it goes away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


@router.get("/cameras/{camera_id}/hls/master.m3u8")
async def hls_master(
    camera_id: int, request: Request, token: Annotated[str, Query()] = ""
) -> Response:
    node = node_of(request)
    admission = node.gate.admit(token, camera_id)
    stream = node.gateway.stream(admission.key)
    node.gateway.touch_hls(stream)
    await _wait_for_segments(stream, node)
    init = stream.hub.init
    assert init is not None
    session_id = node.open_hls(admission)
    await run_in_threadpool(node.gate.started, admission, node.node_id)
    body = (
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        f'#EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS="{init.codec_string}",'
        f"RESOLUTION={init.width}x{init.height}\n"
        f"../../../hls/{session_id}/index.m3u8\n"
    )
    return Response(body, media_type=M3U8, headers={"Cache-Control": "no-store"})


async def _wait_for_segments(stream: Stream, node: GatewayNode) -> None:
    patience = node.connect_timeout * 2 + 10
    deadline = time.monotonic() + patience
    while not stream.hls.ready:
        node.gateway.touch_hls(stream)  # a request waiting here is a viewer
        if time.monotonic() > deadline:
            detail = stream.hub.error or "the camera has not sent two groups of pictures yet"
            raise Unavailable(f"HLS is not ready: {detail}", code="hls_not_ready")
        await asyncio.sleep(0.1)


@router.get("/hls/{session_id}/index.m3u8")
def hls_playlist(session_id: str, request: Request) -> Response:
    node = node_of(request)
    session = node.hls(session_id)
    stream = node.gateway.streams.get(session.key) or node.gateway.stream(session.key)
    node.gateway.touch_hls(stream)
    return Response(stream.hls.playlist(), media_type=M3U8, headers={"Cache-Control": "no-store"})


@router.get("/hls/{session_id}/{name}")
def hls_file(session_id: str, name: str, request: Request) -> Response:
    node = node_of(request)
    session = node.hls(session_id)
    stream = node.gateway.streams.get(session.key)
    if stream is None:
        raise NotFound("The stream has stopped; reload the player.", code="stream_stopped")
    node.gateway.touch_hls(stream)
    data = None
    if name.startswith("init-") and name.endswith(".mp4") and name[5:-4].isdigit():
        data = stream.hls.init(int(name[5:-4]))
    elif name.endswith(".m4s") and name[:-4].isdigit():
        data = stream.hls.segment(int(name[:-4]))
    if data is None:
        raise NotFound(f"{name} is no longer (or not yet) available.", code="segment_not_found")
    return Response(data, media_type=MP4, headers={"Cache-Control": "max-age=60"})
