"""The indicators capability: catalogue → values (DHIS2) → forms and deadlines → analytics."""

from __future__ import annotations

from dieuhanh.core.capability import Capability, DemoPart
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators import (
    analytics_routes,
    cli,
    dashboard_pages,
    demo,
    models,
    routes,
    value_routes,
)
from dieuhanh.reporting import entry_pages, reminders, tracking_routes
from dieuhanh.reporting import models as reporting_models
from dieuhanh.reporting import routes as reporting_routes


def _demo(runtime: Runtime) -> DemoPart | None:
    """Two years of figures for every commune (filled on the first run only)."""
    demo.ensure_values(runtime)
    return None


CAPABILITY = Capability(
    name="indicators",
    package="dieuhanh.indicators",
    title="Indicators and report forms",
    models=(models, reporting_models),
    api_routers=(
        analytics_routes.router,
        tracking_routes.router,
        routes.router,
        value_routes.router,
        reporting_routes.router,
    ),
    page_routers=(dashboard_pages.router, entry_pages.router),
    nav=(*dashboard_pages.NAV, *entry_pages.NAV),
    jobs=reminders.jobs,
    cli=cli.indicators,
    demo=_demo,
)
