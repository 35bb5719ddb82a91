"""The operations view (issue #13, item 9): one offline map of the province with the layers the
other capabilities contribute (``dieuhanh.gis.layers.MAP_LAYERS``), switchable, and a live side
panel of what needs attention now. It imports none of the capabilities whose things it draws."""

from __future__ import annotations

from dieuhanh.core.capability import Capability
from dieuhanh.operations import demo, pages, routes

CAPABILITY = Capability(
    name="operations",
    package="dieuhanh.operations",
    title="Operations view",
    api_routers=(routes.router,),
    page_routers=(pages.router,),
    nav=tuple(pages.NAV),
    demo=demo.start,
)
