"""The alerts page: what needs attention now, updated live (server-sent events), with the steps
(acknowledge, resolve) at hand; critical ones sound."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from dieuhanh.alerts.routes import list_alerts
from dieuhanh.core.access import Permission
from dieuhanh.core.http.deps import Db
from dieuhanh.core.web.shell import NavItem, PagePrincipal, render

router = APIRouter(include_in_schema=False)
NAV = [NavItem("/alerts", "nav.alerts", permission=Permission.WRITE_OWN, order=15)]


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    state: Annotated[str, Query(max_length=60)] = "open,acknowledged",
) -> Response:
    alerts = list_alerts(db, principal, state=state or None, severity=None, unit=None, limit=300)
    return render(request, "alerts/list.html", principal, alerts=alerts, state=state)
