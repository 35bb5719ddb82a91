"""Reading the audit log, within the reader's unit scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from dieuhanh.audit.models import AuditEntry
from dieuhanh.core.access import Scope


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    unit_id: int | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _statement(scope: Scope, flt: AuditFilter) -> Select[Any]:
    statement = select(AuditEntry).where(scope.where(AuditEntry.unit_id))
    for column, value in (
        (AuditEntry.entity_type, flt.entity_type),
        (AuditEntry.entity_id, flt.entity_id),
        (AuditEntry.unit_id, flt.unit_id),
        (AuditEntry.actor, flt.actor),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if flt.since is not None:
        statement = statement.where(AuditEntry.at >= flt.since)
    if flt.until is not None:
        statement = statement.where(AuditEntry.at < flt.until)
    return statement


def query(
    session: Session, scope: Scope, flt: AuditFilter, limit: int = 100, offset: int = 0
) -> tuple[list[AuditEntry], int]:
    statement = _statement(scope, flt)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.scalars(
        statement.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total
