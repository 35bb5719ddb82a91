"""Staff pages: the queue of reports within one's unit scope (open first, late ones marked) and a
report's page with its handling steps, its photos to review, its neighbours and possible
duplicates. The steps call the API (``/api/v1/citizen/reports/{code}/{action}``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from dieuhanh.citizen.models import ReportCategory
from dieuhanh.citizen.routes import list_keys, list_reports, read_report
from dieuhanh.core.access import Permission
from dieuhanh.core.http.deps import Db
from dieuhanh.core.web.shell import NavItem, PagePrincipal, render
from dieuhanh.units.models import Unit

router = APIRouter(include_in_schema=False)
NAV = [NavItem("/citizen", "nav.citizen", permission=Permission.WRITE_OWN, order=50)]


@router.get("/citizen", response_class=HTMLResponse)
def queue(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    status: Annotated[str, Query(max_length=100)] = "new,accepted,assigned,in_progress,reopened",
    q: Annotated[str, Query(max_length=200)] = "",
    overdue: bool = False,
) -> Response:
    reports = list_reports(db, principal, status=status or None, q=q or None, overdue=overdue,
                           limit=200)  # fmt: skip
    return render(request, "citizen/queue.html", principal, reports=reports,
                  filters={"status": status, "q": q, "overdue": overdue})  # fmt: skip


@router.get("/citizen/open311-keys", response_class=HTMLResponse)
def open311_keys(request: Request, db: Db, principal: PagePrincipal) -> Response:
    """Administrators issue Open311 keys (shown once) and revoke them."""
    return render(request, "citizen/keys.html", principal, keys=list_keys(db, principal))


@router.get("/citizen/categories", response_class=HTMLResponse)
def categories_page(request: Request, db: Db, principal: PagePrincipal) -> Response:
    """Administrators change a category's names, handling unit, deadlines, or switch it off
    (through ``PUT /api/v1/citizen/categories/{code}``); everyone else reads them."""
    categories = db.scalars(select(ReportCategory).order_by(ReportCategory.id)).all()
    departments = db.scalars(
        select(Unit).where(Unit.type == "department").order_by(Unit.name)
    ).all()
    return render(request, "citizen/categories.html", principal, categories=categories,
                  departments=departments,
                  can_change=principal.can(Permission.MANAGE_REFERENCE))  # fmt: skip


@router.get("/citizen/{code}", response_class=HTMLResponse)
def report_page(code: str, request: Request, db: Db, principal: PagePrincipal) -> Response:
    report = read_report(code, db, principal)
    return render(request, "citizen/report.html", principal, report=report)
