"""HTTP API of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Response
from pydantic import BaseModel
from sqlalchemy import select

from dieuhanh.audit.service import AuditFilter, query
from dieuhanh.core.access import Permission, require
from dieuhanh.core.http.deps import CurrentPrincipal, Db
from dieuhanh.core.http.routing import api_router
from dieuhanh.units.models import Unit
from dieuhanh.units.service import get_unit

router = api_router("audit")


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    via: str
    client_ip: str | None
    action: str
    entity_type: str
    entity_id: str
    entity_label: str | None
    unit_code: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str | None


@router.get(
    "/audit",
    response_model=list[AuditOut],
    summary="Changes, newest first",
    description="Within the reader's unit scope. The total is in `X-Total-Count`.",
)
def list_audit(
    db: Db,
    principal: CurrentPrincipal,
    response: Response,
    entity_type: Annotated[str | None, Query(max_length=60)] = None,
    entity_id: Annotated[str | None, Query(max_length=60)] = None,
    unit: Annotated[str | None, Query(max_length=32)] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[AuditOut]:
    require(principal, Permission.VIEW_AUDIT)
    flt = AuditFilter(
        entity_type=entity_type,
        entity_id=entity_id,
        unit_id=get_unit(db, unit).id if unit else None,
        actor=actor,
        since=since,
        until=until,
    )
    entries, total = query(db, principal.read_scope, flt, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    codes = _unit_codes(db, {e.unit_id for e in entries if e.unit_id is not None})
    return [
        AuditOut(
            **{k: getattr(e, k) for k in AuditOut.model_fields if k != "unit_code"},
            unit_code=codes.get(e.unit_id) if e.unit_id else None,
        )
        for e in entries
    ]


def _unit_codes(db: Db, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.execute(select(Unit.id, Unit.code).where(Unit.id.in_(ids)))
    return {unit_id: code for unit_id, code in rows}
