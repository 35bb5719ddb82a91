"""The indicators capability: catalogue → values (DHIS2) → forms and deadlines → analytics.

One manifest for the four parts. Each part imports only the parts below it (an import-linter
contract in pyproject.toml); the reporting part answers the value part's questions (locks,
completion, reporting rates) by registering :data:`FORM_REPORTING` on every runtime.
"""

from __future__ import annotations

from dieuhanh.core.capability import Capability, DemoPart
from dieuhanh.core.runtime import Runtime
from dieuhanh.gis.layers import MAP_LAYERS
from dieuhanh.indicators import cli, demo, routes
from dieuhanh.indicators.analytics import (
    analytics_routes,
    bands,
    dashboard_pages,
    forecast,
    map_layer,
    tracking_routes,
)
from dieuhanh.indicators.catalog import form_models, models
from dieuhanh.indicators.reporting import entry_pages, reminders
from dieuhanh.indicators.reporting import routes as reporting_routes
from dieuhanh.indicators.reporting import topics as reporting_topics
from dieuhanh.indicators.reporting.hooks import FORM_REPORTING
from dieuhanh.indicators.values import hooks, topics, value_routes


def _register_reporting(runtime: Runtime) -> None:
    hooks.register(runtime.sessions, FORM_REPORTING)


def _demo(runtime: Runtime) -> DemoPart | None:
    """Two years of figures for every commune (filled on the first run only)."""
    demo.ensure_values(runtime)
    return None


CAPABILITY = Capability(
    name="indicators",
    package="dieuhanh.indicators",
    title="Indicators and report forms",
    models=(models, form_models, bands, forecast),
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
    topics=(*topics.TOPICS, *bands.TOPICS, *forecast.TOPICS, *reporting_topics.TOPICS),
    subscriptions=bands.subscriptions,
    cli=cli.indicators,
    demo=_demo,
    on_runtime=_register_reporting,
    contributes={MAP_LAYERS: (map_layer.LAYER,)},
)
