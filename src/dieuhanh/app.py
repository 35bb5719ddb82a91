"""The application factory: wires every capability's routes, pages and navigation together."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse

from dieuhanh import __version__
from dieuhanh.api import errors
from dieuhanh.api.bodylimit import BodyCounter, BodyLimitMiddleware
from dieuhanh.api.routing import API_PREFIX, api_router
from dieuhanh.audit import pages as audit_pages
from dieuhanh.audit import routes as audit_routes
from dieuhanh.auth import pages as auth_pages
from dieuhanh.auth import routes as auth_routes
from dieuhanh.cameras import jobs as camera_jobs
from dieuhanh.cameras import pages as camera_pages
from dieuhanh.cameras import routes as camera_routes
from dieuhanh.cameras import stream_routes as camera_stream_routes
from dieuhanh.cameras import survey_routes as camera_survey_routes
from dieuhanh.cameras import view_pages as camera_view_pages
from dieuhanh.config import Settings, load_settings
from dieuhanh.db import health as db_health
from dieuhanh.db.busy import retry_after
from dieuhanh.gateway import nodes
from dieuhanh.gateway import routes as gateway_routes
from dieuhanh.gateway.node import GatewayNode
from dieuhanh.gis import pages as gis_pages
from dieuhanh.gis import routes as gis_routes
from dieuhanh.indicators import analytics_routes, dashboard_pages, value_routes
from dieuhanh.indicators import routes as indicator_routes
from dieuhanh.reporting import entry_pages as report_entry_pages
from dieuhanh.reporting import reminders as report_reminders
from dieuhanh.reporting import routes as reporting_routes
from dieuhanh.reporting import tracking_routes as report_tracking_routes
from dieuhanh.runtime import Runtime, build_runtime
from dieuhanh.scheduler import Job, Scheduler
from dieuhanh.system import routes as system_routes
from dieuhanh.units import pages as unit_pages
from dieuhanh.units import routes as unit_routes
from dieuhanh.web import routes as web_routes
from dieuhanh.web.shell import build_templates, page_error

log = logging.getLogger(__name__)

# Each capability: its API routers, its page router, its navigation entries.
CAPABILITIES: list[tuple[list[Any], Any, list[Any]]] = [
    (
        [auth_routes.public, auth_routes.router, auth_routes.users],
        auth_pages.router,
        auth_pages.NAV,
    ),
    ([unit_routes.router], unit_pages.router, unit_pages.NAV),
    ([gis_routes.router], gis_pages.router, gis_pages.NAV),
    (
        [camera_routes.router, camera_survey_routes.router, camera_stream_routes.router],
        camera_pages.router,
        camera_pages.NAV,
    ),
    ([], camera_view_pages.router, camera_view_pages.NAV),
    ([], dashboard_pages.router, dashboard_pages.NAV),
    ([], report_entry_pages.router, report_entry_pages.NAV),
    ([audit_routes.router, system_routes.router], audit_pages.router, audit_pages.NAV),
    ([analytics_routes.router, report_tracking_routes.router], None, []),
    (
        [indicator_routes.router, value_routes.router, reporting_routes.router],
        None,
        [],
    ),
]
# Each capability's background jobs (run by `demo` and `worker`, never by `serve`).
JOB_FACTORIES: list[Callable[[Runtime], list[Job]]] = [camera_jobs.jobs, report_reminders.jobs]


def background_jobs(runtime: Runtime) -> list[Job]:
    return [job for factory in JOB_FACTORIES for job in factory(runtime)]


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
    # Small installations (and the demo) serve video from the web process itself.
    app.state.gateway_node = GatewayNode(runtime) if runtime.settings.gateway.embedded else None
    if app.state.gateway_node is not None:
        app.include_router(gateway_routes.router)
    app.state.templates = build_templates()
    app.state.nav = []
    errors.install(app, page_error)
    app.include_router(_health_router())
    for api_routers, page_router, nav in CAPABILITIES:
        for router in api_routers:
            app.include_router(router)
        if page_router is not None:
            app.include_router(page_router)
        app.state.nav.extend(nav)
    app.state.nav.sort(key=lambda item: item.order)
    app.include_router(web_routes.router)
    app.mount("/static", web_routes.static_files(), name="static")
    app.state.body_counter = BodyCounter()
    app.add_middleware(
        BodyLimitMiddleware,
        default=runtime.settings.limits.max_body_bytes,
        counter=app.state.body_counter,
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
            if app.state.gateway_node is not None:
                await app.state.gateway_node.gateway.shutdown()

    return lifespan


def _health_router() -> Any:
    router = api_router("health", public=True)

    @router.get("/health/live", summary="Liveness: the process answers (no database, no login)")
    def live() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @router.get(
        "/health",
        summary="Readiness: the database answers and a write can start (no login)",
        description="503 when the database is `busy` (a write lock held past "
        "`database.health_timeout_seconds`, with `Retry-After`) or `unreachable`.",
    )
    def health(request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        limits = runtime.settings.database
        # In a worker thread (a sync route): the probe's short waits never block the event loop.
        database = db_health.probe(
            runtime.engine, limits.health_timeout_seconds, limits.lock_timeout_seconds
        )
        body = {
            "status": "ok" if database == "ok" else "error",
            "version": __version__,
            "database": database,
            "province_code": runtime.settings.province_code,
        }
        headers = {"Retry-After": str(retry_after(limits.lock_timeout_seconds))}
        return JSONResponse(
            body,
            status_code=200 if database == "ok" else 503,
            headers=headers if database == "busy" else None,
        )

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
