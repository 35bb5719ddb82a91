"""The audit log page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from dieuhanh.audit.service import AuditFilter, query
from dieuhanh.core.access import Permission, Principal, require
from dieuhanh.core.http.deps import Db
from dieuhanh.core.web.shell import NavItem, PagePrincipal, render
from dieuhanh.units.models import Unit
from dieuhanh.units.service import find_unit

router = APIRouter(include_in_schema=False)
NAV = [NavItem("/audit", "nav.audit", Permission.VIEW_AUDIT, order=90)]
PAGE_SIZE = 50


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    entity_type: Annotated[str, Query(max_length=60)] = "",
    actor: Annotated[str, Query(max_length=100)] = "",
    unit: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    require(principal, Permission.VIEW_AUDIT)
    unit_row = find_unit(db, unit) if unit else None
    flt = AuditFilter(
        entity_type=entity_type or None,
        actor=actor or None,
        unit_id=unit_row.id if unit_row else (-1 if unit else None),
    )
    entries, total = query(db, principal.read_scope, flt, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render(
        request,
        "audit/list.html",
        principal,
        entries=entries,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        entity_type=entity_type,
        actor=actor,
        unit=unit,
    )


def unit_changes(db: Session, unit: Unit, principal: Principal) -> dict[str, object]:
    """The unit's last changes, for its page (``units.unit_page_context``)."""
    if not (principal.read_scope.allows(unit.id) and principal.can(Permission.VIEW_AUDIT)):
        return {}
    return {"changes": query(db, principal.read_scope, AuditFilter(unit_id=unit.id), limit=10)[0]}
