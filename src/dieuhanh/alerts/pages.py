"""The alerts page: what needs attention now, updated live (server-sent events), with the steps
(acknowledge, resolve) at hand; critical ones sound. The directives board, live too."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import yaml
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from dieuhanh.alerts.directives import board
from dieuhanh.alerts.models import AlertRule
from dieuhanh.alerts.routes import daily_briefing, list_alerts, one_alert
from dieuhanh.alerts.scenarios import shipped
from dieuhanh.core.access import Permission, Role
from dieuhanh.core.http.deps import Db
from dieuhanh.core.web.shell import NavItem, PagePrincipal, render

router = APIRouter(include_in_schema=False)
NAV = [
    NavItem("/briefing", "nav.briefing", permission=Permission.WRITE_OWN, order=14),
    NavItem("/alerts", "nav.alerts", permission=Permission.WRITE_OWN, order=15),
    NavItem("/directives", "nav.directives", permission=Permission.WRITE_OWN, order=16),
]


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    state: Annotated[str, Query(max_length=60)] = "open,acknowledged",
) -> Response:
    alerts = list_alerts(db, principal, state=state or None, severity=None, unit=None, limit=300)
    return render(request, "alerts/list.html", principal, alerts=alerts, state=state)


@router.get("/alerts/{alert_id:int}", response_class=HTMLResponse)
def alert_page(request: Request, alert_id: int, db: Db, principal: PagePrincipal) -> Response:
    """One alert with its history and its steps at hand: where the operations view's side panel
    and map send a click."""
    alert = one_alert(alert_id, db, principal)
    return render(request, "alerts/detail.html", principal, alert=alert)


@router.get("/alerts/rules", response_class=HTMLResponse)
def rules_page(request: Request, db: Db, principal: PagePrincipal) -> Response:
    """The rules as YAML, to change and save (all or none, errors with the key and column), and
    each to try on the events of the last 90 days before it is switched on."""
    rules = list(db.scalars(select(AlertRule).order_by(AlertRule.code)))
    text = yaml.safe_dump([rule.definition | {"enabled": rule.enabled} for rule in rules],
                          allow_unicode=True, sort_keys=False, width=100)  # fmt: skip
    return render(request, "alerts/rules.html", principal, rules=rules, text=text,
                  can_change=principal.can(Permission.MANAGE_ALERTS))  # fmt: skip


@router.get("/briefing", response_class=HTMLResponse)
def briefing_page(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    unit: Annotated[str | None, Query(max_length=32)] = None,
    day: Annotated[date | None, Query(alias="date")] = None,
) -> Response:
    """The daily briefing on one page, printable."""
    found = daily_briefing(request, db, principal, unit, day)
    return render(request, "alerts/briefing.html", principal, b=found)


@router.get("/directives", response_class=HTMLResponse)
def directives_page(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    unit: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """The board: every directive × recipient unit with its state, live; a unit's own steps at
    hand; the province issues from here. ``unit``: only the directives to that unit (the
    operations map links a unit here)."""
    entries = board(db, principal)
    if unit:
        entries = [e for e in entries if any(r["unit_code"] == unit for r in e["recipients"])]
    can_issue = principal.can(Permission.MANAGE_ALERTS) or principal.role == Role.DEPARTMENT_OFFICER
    return render(request, "alerts/directives.html", principal, entries=entries,
                  can_issue=can_issue, scenarios=shipped(), unit_filter=unit)  # fmt: skip
