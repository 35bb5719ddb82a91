"""The cameras capability: registry, survey, health monitor, live views and who watched what."""

from __future__ import annotations

from fastapi import FastAPI

from dieuhanh.cameras import (
    demo,
    jobs,
    map_layer,
    models,
    pages,
    routes,
    stream_routes,
    streams,
    survey_routes,
    topics,
    view_pages,
)
from dieuhanh.core.capability import Capability, DemoPart
from dieuhanh.core.runtime import Runtime
from dieuhanh.gateway import routes as gateway_routes
from dieuhanh.gateway.access_log import redact_stream_tokens
from dieuhanh.gis.layers import MAP_LAYERS


def _embed_gateway(app: FastAPI, runtime: Runtime) -> None:
    """Small installations (and the demo) serve video from the web process itself."""
    if not runtime.settings.gateway.embedded:
        app.state.gateway_node = None
        return
    node = streams.camera_gateway_node(runtime)
    app.state.gateway_node = node
    app.include_router(gateway_routes.router)
    redact_stream_tokens()  # stream URLs carry ?token=…
    app.state.shutdown_hooks.append(node.gateway.shutdown)


# The demo probes faster than production, so that a first look shows frozen pictures too.
DEMO_MONITOR = {"interval_seconds": 30, "picture_interval_seconds": 60, "frozen_after_seconds": 45}
# Its simulated cameras listen on loopback, which the camera-network policy refuses by default:
# allowed for this process only, on top of the configured networks.
DEMO_CAMERA_NETWORK = "127.0.0.1/32"


def _demo(runtime: Runtime) -> DemoPart:
    """Simulated cameras (live and dead in every way the monitor tells apart), registered."""
    for key, value in DEMO_MONITOR.items():
        setattr(runtime.settings.cameras.monitor, key, value)
    if DEMO_CAMERA_NETWORK not in runtime.settings.cameras.allowed_networks:
        runtime.settings.cameras.allowed_networks.append(DEMO_CAMERA_NETWORK)
    running = demo.start(runtime.settings.data_dir)
    demo.ensure_cameras(runtime, running)
    demo.ensure_declarations(runtime)
    port = running.simulator.port
    return DemoPart(
        banner=[
            f"cameras:        simulated on rtsp://127.0.0.1:{port}/ "
            "(live and dead in every way the monitor tells apart)"
        ],
        stop=running.stop,
    )


CAPABILITY = Capability(
    name="cameras",
    package="dieuhanh.cameras",
    title="Cameras",
    models=(models,),
    api_routers=(routes.router, survey_routes.router, stream_routes.router),
    page_routers=(pages.router, view_pages.router),
    nav=(*pages.NAV, *view_pages.NAV),
    jobs=jobs.jobs,
    topics=topics.TOPICS,
    demo=_demo,
    on_app=_embed_gateway,
    contributes={MAP_LAYERS: (map_layer.LAYER,)},
)
