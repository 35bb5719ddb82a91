"""The system capability: the event log and the background jobs, as seen through the API."""

from __future__ import annotations

from dieuhanh.core.capability import Capability
from dieuhanh.system import routes

CAPABILITY = Capability(
    name="system",
    package="dieuhanh.system",
    title="Events and jobs",
    api_routers=(routes.router,),
)
