"""The audit capability: every change to an audited record, who made it, before and after."""

from __future__ import annotations

from dieuhanh.audit import models, pages, recorder, routes
from dieuhanh.core.capability import Capability
from dieuhanh.core.runtime import Runtime
from dieuhanh.units.pages import UNIT_PAGE_CONTEXT


def _record_changes(runtime: Runtime) -> None:
    recorder.install(runtime.sessions)


CAPABILITY = Capability(
    name="audit",
    package="dieuhanh.audit",
    title="Audit log",
    models=(models,),
    api_routers=(routes.router,),
    page_routers=(pages.router,),
    nav=tuple(pages.NAV),
    contributes={UNIT_PAGE_CONTEXT: (pages.unit_changes,)},
    on_runtime=_record_changes,
)
