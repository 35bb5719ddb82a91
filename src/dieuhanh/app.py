"""The application factory: wires every capability's routes, pages and navigation together."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import text

from dieuhanh import __version__
from dieuhanh.capabilities import build_runtime, enabled_capabilities
from dieuhanh.core.capability import Capability, PrincipalResolver
from dieuhanh.core.config import Settings, load_settings
from dieuhanh.core.http import errors
from dieuhanh.core.http.routing import API_PREFIX, api_router
from dieuhanh.core.jobs import Job, Scheduler
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.web import routes as web_routes
from dieuhanh.core.web.shell import build_templates, page_error
from dieuhanh.gateway import nodes

log = logging.getLogger(__name__)


def background_jobs(runtime: Runtime) -> list[Job]:
    """Every capability's background jobs (run by `demo` and `worker`, never by `serve`)."""
    return [
        job
        for capability in runtime.capabilities
        if capability.jobs is not None
        for job in capability.jobs(runtime)
    ]


def create_app(
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    *,
    scheduler: Scheduler | None = None,
) -> FastAPI:
    """``scheduler``: background jobs to run alongside the web server (the demo passes one)."""
    runtime = runtime or build_runtime(settings or load_settings())
    app = FastAPI(
        lifespan=_lifespan(scheduler),
        title="DieuHanh API",
        version=__version__,
        description=(
            "The HTTP API of DieuHanh, the platform of a provincial Intelligent Operations Center. "
            "Log in with `POST /api/v1/auth/token` and send `Authorization: Bearer <token>`. "
            'Errors are `{"error": {"code", "message"}}`.'
        ),
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.scheduler = scheduler
    app.state.shutdown_hooks = []
    capabilities = runtime.capabilities or enabled_capabilities(runtime.settings)
    app.state.principal_resolver = _principal_resolver(capabilities)
    app.state.templates = build_templates(
        c.templates_dir for c in capabilities if c.templates_dir is not None
    )
    app.state.page_globals = {
        name: compute for c in capabilities for name, compute in c.template_globals.items()
    }
    app.state.nav = sorted((item for c in capabilities for item in c.nav), key=lambda i: i.order)
    errors.install(app, page_error)
    app.include_router(_health_router())
    for capability in capabilities:
        for router in capability.api_routers:
            app.include_router(router)
    for capability in capabilities:
        for router in capability.page_routers:
            app.include_router(router)
    for capability in capabilities:
        if capability.on_app is not None:
            capability.on_app(app, runtime)
    app.include_router(web_routes.router)
    app.mount(
        "/static",
        web_routes.static_files(c.package for c in capabilities if c.static_dir is not None),
        name="static",
    )
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.middleware("http")(_request_context)
    return app


def _lifespan(
    scheduler: Scheduler | None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(scheduler.run(stop)) if scheduler is not None else None
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            for hook in app.state.shutdown_hooks:
                await hook()

    return lifespan


def _principal_resolver(capabilities: Sequence[Capability]) -> PrincipalResolver | None:
    resolvers = [c.resolve_principal for c in capabilities if c.resolve_principal is not None]
    if len(resolvers) > 1:
        raise ValueError("more than one capability resolves principals")
    return resolvers[0] if resolvers else None


def _health_router() -> Any:
    router = api_router("health", public=True)

    @router.get("/health", summary="Liveness and database check (no login)")
    def health(request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        try:
            with runtime.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            database = "ok"
        except Exception as exc:  # any failure means "not healthy", reported, not raised
            log.warning("health check: database unreachable: %s", exc.__class__.__name__)
            database = "unreachable"
        body = {
            "status": "ok" if database == "ok" else "error",
            "version": __version__,
            "database": database,
            "province_code": runtime.settings.province_code,
        }
        return JSONResponse(body, status_code=200 if database == "ok" else 503)

    return router


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


async def _request_context(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    request.state.request_id = request.headers.get("x-request-id", "")[:40] or uuid.uuid4().hex[:16]
    response = await call_next(request)
    response.headers["X-Request-ID"] = request.state.request_id
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy", _csp(request))
    return response


def _csp(request: Request) -> str:
    tile_url = request.app.state.runtime.settings.map.tile_url
    tiles = ""
    if tile_url and tile_url.startswith("http"):
        scheme, _, rest = tile_url.partition("://")
        tiles = f" {scheme}://{rest.split('/', 1)[0].replace('{s}', '*')}"
    # Video: MediaSource plays from a blob: URL; scaled out, it comes from gateway nodes
    # (WebSocket and HLS) at their own addresses.
    nodes = " ".join(_gateway_origins(request))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{tiles}; connect-src 'self' {nodes}; "
        f"media-src 'self' blob: {nodes}; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ).replace("  ", " ")


NODE_ORIGINS_TTL = 10.0


def _gateway_origins(request: Request) -> list[str]:
    """The origins of the live gateway nodes, looked up at most every few seconds."""
    runtime: Runtime = request.app.state.runtime
    if runtime.settings.gateway.embedded:
        return []
    cached = getattr(request.app.state, "node_origins", None)
    now = time.monotonic()
    if cached is not None and now - cached[0] < NODE_ORIGINS_TTL:
        return list(cached[1])
    try:
        with runtime.sessions() as session:
            alive = nodes.alive_nodes(session, runtime.settings.gateway.heartbeat_seconds)
    except Exception:  # a page must render even when the node list cannot be read
        return list(cached[1]) if cached else []
    origins: list[str] = []
    for node in alive:
        parts = urlsplit(node.public_url)
        websocket = "wss" if parts.scheme == "https" else "ws"
        origins += [f"{parts.scheme}://{parts.netloc}", f"{websocket}://{parts.netloc}"]
    request.app.state.node_origins = (now, origins)
    return origins
