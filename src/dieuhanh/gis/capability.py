"""The gis capability: commune boundaries, point lookup, the map drawn without a tile server."""

from __future__ import annotations

from dieuhanh.core.capability import Capability
from dieuhanh.gis import cli, models, pages, routes
from dieuhanh.units.pages import UNIT_PAGE_CONTEXT

CAPABILITY = Capability(
    name="gis",
    package="dieuhanh.gis",
    title="Boundaries and the map",
    models=(models,),
    api_routers=(routes.router,),
    page_routers=(pages.router,),
    nav=tuple(pages.NAV),
    contributes={
        UNIT_PAGE_CONTEXT: (pages.unit_boundary,),
        "cli:units import": (cli.import_boundaries_command,),
    },
)
