"""Citizen reports' state for the assistant (core.status): open reports by status and the
overdue ones (past their deadline and still open), within the asker's scope."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dieuhanh.citizen.models import OPEN_STATUSES, CitizenReport
from dieuhanh.core.access import Scope
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.status import StatusItem, StatusProvider, StatusSummary
from dieuhanh.units.models import Unit

OVERDUE = "overdue"
OPEN = "open"
_OPEN = sorted(s.value for s in OPEN_STATUSES)


def summarize(session: Session, scope: Scope, state: str | None, limit: int) -> StatusSummary:
    now = utcnow()
    in_scope = scope.where(CitizenReport.unit_id)
    is_open = CitizenReport.status.in_(_OPEN)
    counts = {
        OPEN: session.scalar(select(func.count()).where(is_open, in_scope)) or 0,
        OVERDUE: session.scalar(
            select(func.count()).where(is_open, in_scope, CitizenReport.due_at < now)
        )
        or 0,
    }
    wanted = [is_open, in_scope]
    if state != OPEN:
        wanted.append(CitizenReport.due_at < now)  # by default, what needs attention: overdue
    rows = session.execute(
        select(CitizenReport, Unit)
        .join(Unit, Unit.id == CitizenReport.unit_id)
        .where(*wanted)
        .order_by(CitizenReport.due_at, CitizenReport.code)
        .limit(limit)
    )
    items = [
        StatusItem(
            f"{report.code}: {report.description[:80]}",
            OVERDUE if report.due_at < now else report.status,
            unit.code,
            unit.name,
            report.due_at,
            f"/citizen/{report.code}",
        )
        for report, unit in rows
    ]
    return StatusSummary("reports", counts, items, "/citizen")


PROVIDER = StatusProvider("reports", (OVERDUE, OPEN), summarize)
