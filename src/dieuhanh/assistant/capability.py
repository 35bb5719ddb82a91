"""The assistant (issue 14): leaders ask in Vietnamese and get the product's own figures, with
the query that produced them and a link to where they come from — offline by default."""

from __future__ import annotations

from dieuhanh.assistant import daily, demo, models, pages, routes
from dieuhanh.core.briefing import BRIEFING_SECTIONS
from dieuhanh.core.capability import Capability

CAPABILITY = Capability(
    name="assistant",
    package="dieuhanh.assistant",
    title="Assistant",
    models=(models,),
    api_routers=(routes.router,),
    page_routers=(pages.router,),
    nav=tuple(pages.NAV),
    demo=demo.start,
    contributes={BRIEFING_SECTIONS: (daily.CONTRIBUTOR,)},
)
