"""Alerts (cảnh báo) and directives (chỉ đạo): the first real consumer of the event stream —
rules over every capability's events, one alert per rule × subject with its lifecycle, the live
alerts page, operating scenarios that issue directives to units and follow them, and emergency
broadcasts as CAP 1.2."""

from __future__ import annotations

from dieuhanh.alerts import (
    attachment_routes,
    cap_routes,
    demo,
    directive_routes,
    directives,
    jobs,
    map_layers,
    models,
    notify,
    pages,
    routes,
    scenarios,
    status,
    subscriber,
    topics,
)
from dieuhanh.core.capability import Capability
from dieuhanh.core.status import STATUS_PROVIDERS
from dieuhanh.gis.layers import MAP_LAYERS

CAPABILITY = Capability(
    name="alerts",
    package="dieuhanh.alerts",
    title="Alerts",
    models=(models,),
    # The attachments' before the directives': …/recipients/{unit}/attachments is not a step.
    api_routers=(
        routes.router,
        attachment_routes.router,
        directive_routes.router,
        cap_routes.router,
        cap_routes.public,
    ),
    page_routers=(pages.router,),
    nav=tuple(pages.NAV),
    jobs=jobs.jobs,
    contributes={
        STATUS_PROVIDERS: (status.PROVIDER,),
        MAP_LAYERS: (map_layers.ALERTS, map_layers.DIRECTIVES),
    },
    topics=(*topics.TOPICS, *directives.TOPICS),
    subscriptions=lambda runtime: [
        *subscriber.subscriptions(runtime),
        *notify.subscriptions(runtime),
        *scenarios.subscriptions(runtime),
    ],
    demo=demo.start,
)
