"""The data hub: live connections to the province's systems, with provenance and freshness."""

from __future__ import annotations

from dieuhanh.core.capability import Capability
from dieuhanh.core.status import STATUS_PROVIDERS
from dieuhanh.datahub import (
    cli,
    demo,
    jobs,
    models,
    pages,
    push_routes,
    reconcile_routes,
    routes,
    status,
    topics,
)

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
    page_routers=(pages.router,),
    nav=tuple(pages.NAV),
    jobs=jobs.jobs,
    contributes={STATUS_PROVIDERS: (status.PROVIDER,)},
    topics=topics.TOPICS,
    cli=cli.datahub,
    demo=demo.start,
)
