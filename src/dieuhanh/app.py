"""The application factory: wires every capability's routes, pages and navigation together."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse

from dieuhanh import __version__
from dieuhanh.capabilities import build_runtime, enabled_capabilities, subscriptions
from dieuhanh.core.capability import Capability, PrincipalResolver
from dieuhanh.core.config import Settings, load_settings
from dieuhanh.core.db import health as db_health
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.db.busy import retry_after
from dieuhanh.core.events import Subscription, run_dispatcher, trim_events
from dieuhanh.core.http import errors, transport
from dieuhanh.core.http.bodylimit import BodyCounter, BodyLimitMiddleware
from dieuhanh.core.http.routing import API_PREFIX, api_router
from dieuhanh.core.jobs import Job, Scheduler
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.web import routes as web_routes
from dieuhanh.core.web.shell import build_templates, page_error
from dieuhanh.gateway import nodes

log = logging.getLogger(__name__)


EVENT_TRIM_EVERY_SECONDS = 6 * 3600


def background_jobs(runtime: Runtime) -> list[Job]:
    """Every capability's background jobs, and the kernel's own (trimming the event log)."""
    jobs = [
        job
        for capability in runtime.capabilities
        if capability.jobs is not None
        for job in capability.jobs(runtime)
    ]
    return [*jobs, _event_trim_job(runtime)]


def _event_trim_job(runtime: Runtime) -> Job:
    def trim() -> str:
        with runtime.sessions() as session:
            removed = trim_events(session, utcnow(), runtime.settings.events.retention_days)
            session.commit()
        return f"{removed} events older than {runtime.settings.events.retention_days} days removed"

    return Job(
        "events.trim",
        EVENT_TRIM_EVERY_SECONDS,
        trim,
        description="Removes events older than events.retention_days from the event log.",
    )


@dataclass
class Background:
    """What `demo` and `worker` run beside (or without) the web server: the jobs, shared with
    every other worker through the database, and the event subscribers, each on its cursor."""

    runtime: Runtime
    scheduler: Scheduler
    subscriptions: list[Subscription]

    @classmethod
    def of(cls, runtime: Runtime) -> Background:
        return cls(
            runtime, Scheduler(background_jobs(runtime), runtime.sessions), subscriptions(runtime)
        )

    def names(self) -> list[str]:
        return [job.name for job in self.scheduler.jobs] + [s.name for s in self.subscriptions]

    async def run(self, stop: asyncio.Event) -> None:
        tasks = [self.scheduler.run(stop)]
        if self.subscriptions:
            tasks.append(run_dispatcher(self.runtime, self.subscriptions, stop))
        await asyncio.gather(*tasks)


def create_app(
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    *,
    background: Background | None = None,
) -> FastAPI:
    """``background``: jobs and event subscribers to run alongside the web server (the demo
    passes them; `serve` runs none)."""
    runtime = runtime or build_runtime(settings or load_settings())
    app = FastAPI(
        lifespan=_lifespan(background),
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
    app.state.background = background
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
    app.state.body_counter = BodyCounter()
    app.add_middleware(
        BodyLimitMiddleware,
        default=runtime.settings.limits.max_body_bytes,
        counter=app.state.body_counter,
    )
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.middleware("http")(_request_context)
    transport.install_proxy_headers(app, runtime.settings.auth)
    return app


def _lifespan(
    background: Background | None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(background.run(stop)) if background is not None else None
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
    transport.add_hsts(request, response)
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
