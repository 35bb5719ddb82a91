"""The cameras capability: registry, survey, health monitor, live views and who watched what."""

from __future__ import annotations

from fastapi import FastAPI

from dieuhanh.cameras import (
    jobs,
    models,
    pages,
    routes,
    stream_routes,
    survey_routes,
    view_pages,
)
from dieuhanh.core.capability import Capability
from dieuhanh.core.runtime import Runtime
from dieuhanh.gateway import routes as gateway_routes
from dieuhanh.gateway.node import GatewayNode


def _embed_gateway(app: FastAPI, runtime: Runtime) -> None:
    """Small installations (and the demo) serve video from the web process itself."""
    if not runtime.settings.gateway.embedded:
        app.state.gateway_node = None
        return
    node = GatewayNode(runtime)
    app.state.gateway_node = node
    app.include_router(gateway_routes.router)
    app.state.shutdown_hooks.append(node.gateway.shutdown)


CAPABILITY = Capability(
    name="cameras",
    package="dieuhanh.cameras",
    title="Cameras",
    models=(models,),
    api_routers=(routes.router, survey_routes.router, stream_routes.router),
    page_routers=(pages.router, view_pages.router),
    nav=(*pages.NAV, *view_pages.NAV),
    jobs=jobs.jobs,
    on_app=_embed_gateway,
)
