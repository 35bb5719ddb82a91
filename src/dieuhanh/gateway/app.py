"""`dieuhanh gateway`: a node that serves video only, for installations with many cameras.

It shares the database with the web processes (through its embedder's source opener and viewer
gate: to find cameras and record viewings) and the stream key (to check stream tokens); it tells
the others it is alive every few seconds, and the API sends each camera's viewers to the node
that rendezvous hashing gives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from dieuhanh import __version__
from dieuhanh.core.errors import DieuhanhError
from dieuhanh.core.http import errors
from dieuhanh.core.runtime import Runtime
from dieuhanh.gateway import nodes
from dieuhanh.gateway import routes as gateway_routes
from dieuhanh.gateway.access_log import redact_stream_tokens
from dieuhanh.gateway.node import GatewayNode

log = logging.getLogger(__name__)


# Video fragments do not compress: permessage-deflate, which browsers always offer, would spend
# CPU deflating every fragment for every viewer for nothing.
UVICORN_OPTIONS: dict[str, Any] = {"ws_per_message_deflate": False}


def default_node_id(port: int) -> str:
    return f"{socket.gethostname()}:{port}"


def create_gateway_app(runtime: Runtime, node: GatewayNode, public_url: str) -> FastAPI:
    """A node's own app: its streams, a health route, a heartbeat in the shared database."""
    node_id = node.node_id
    redact_stream_tokens()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_heartbeat(runtime, node, public_url))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await node.gateway.shutdown()
            await run_in_threadpool(_leave, runtime, node_id)

    app = FastAPI(lifespan=lifespan, title="DieuHanh gateway", version=__version__,
                  openapi_url=None, docs_url=None, redoc_url=None)  # fmt: skip
    app.state.runtime = runtime
    app.state.gateway_node = node
    errors.install(app, _json_error)
    app.include_router(gateway_routes.router)

    @app.get("/gw/v1/health")
    def health() -> dict[str, object]:
        return {"status": "ok", "node": node_id, "version": __version__, **node.gateway.stats()}

    return app


async def _json_error(
    request: object, exc: DieuhanhError, status: int | None = None
) -> JSONResponse:
    return JSONResponse(exc.to_json(), status_code=status or exc.status)


async def _heartbeat(runtime: Runtime, node: GatewayNode, public_url: str) -> None:
    settings = runtime.settings.gateway
    while True:
        try:
            await run_in_threadpool(_beat, runtime, node, public_url)
        except Exception:  # the database may be away for a moment; the node keeps serving
            log.exception("gateway heartbeat failed")
        await asyncio.sleep(settings.heartbeat_seconds)


def _beat(runtime: Runtime, node: GatewayNode, public_url: str) -> None:
    stats = {k: int(v) for k, v in node.gateway.stats().items() if isinstance(v, int)}
    with runtime.sessions() as session:
        nodes.beat(
            session, node.node_id, public_url, stats, runtime.settings.gateway.max_transcodes
        )
        session.commit()


def _leave(runtime: Runtime, node_id: str) -> None:
    with runtime.sessions() as session:
        nodes.leave(session, node_id)
        session.commit()
