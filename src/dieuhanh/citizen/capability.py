"""Citizen reports (phản ánh hiện trường) and the 1022 hotline: intake from every channel,
routing to the right unit, handling on time, and Open311 GeoReport v2."""

from __future__ import annotations

from dieuhanh.citizen import (
    demo,
    hotline,
    jobs,
    map_layer,
    models,
    notify,
    open311,
    pages,
    public_pages,
    routes,
    status,
    topics,
)
from dieuhanh.core.capability import Capability
from dieuhanh.core.status import STATUS_PROVIDERS
from dieuhanh.gis.layers import MAP_LAYERS

CAPABILITY = Capability(
    name="citizen",
    package="dieuhanh.citizen",
    title="Citizen reports",
    models=(models,),
    api_routers=(routes.router, open311.router),
    page_routers=(public_pages.router, pages.router),
    nav=tuple(pages.NAV),
    jobs=jobs.jobs,
    contributes={STATUS_PROVIDERS: (status.PROVIDER,), MAP_LAYERS: (map_layer.LAYER,)},
    topics=topics.TOPICS,
    subscriptions=lambda runtime: [
        *hotline.subscriptions(runtime),
        *notify.subscriptions(runtime),
    ],
    demo=demo.start,
)
