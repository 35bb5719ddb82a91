"""The units capability: the province, its communes/wards and departments, names over time."""

from __future__ import annotations

from dieuhanh.core.capability import Capability
from dieuhanh.units import cli, models, pages, routes

CAPABILITY = Capability(
    name="units",
    package="dieuhanh.units",
    title="Units (province, communes/wards, departments)",
    models=(models,),
    api_routers=(routes.router,),
    page_routers=(pages.router,),
    nav=tuple(pages.NAV),
    cli=cli.units,
    template_globals={"province_name": pages.province_name},
)
