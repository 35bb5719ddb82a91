"""The data hub: live connections to the province's systems, with provenance and freshness."""

from __future__ import annotations

from dieuhanh.core.capability import Capability
from dieuhanh.core.status import STATUS_PROVIDERS
from dieuhanh.datahub import (
    cli,
    declare_pages,
    demo,
    jobs,
    map_layer,
    models,
    pages,
    push_routes,
    reconcile_routes,
    routes,
    status,
    topics,
)
from dieuhanh.gis.layers import MAP_LAYERS

CAPABILITY = Capability(
    name="datahub",
    package="dieuhanh.datahub",
    title="Data hub",
    models=(models,),
    api_routers=(
        routes.router,
        reconcile_routes.router,
        push_routes.router,
        push_routes.public,
    ),
    page_routers=(pages.router, declare_pages.router),
    nav=tuple(pages.NAV),
    jobs=jobs.jobs,
    contributes={STATUS_PROVIDERS: (status.PROVIDER,), MAP_LAYERS: (map_layer.LAYER,)},
    topics=topics.TOPICS,
    cli=cli.datahub,
    demo=demo.start,
)
