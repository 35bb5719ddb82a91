"""Alerts' state for the assistant (core.status): alerts not yet resolved, most severe first,
within the asker's scope (an alert without a unit is the province's)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dieuhanh.alerts.models import SEVERITY_RANK, Alert, AlertState, Severity
from dieuhanh.core.access import Scope
from dieuhanh.core.status import StatusItem, StatusProvider, StatusSummary
from dieuhanh.units.models import Unit

OPEN = "open"


def summarize(session: Session, scope: Scope, state: str | None, limit: int) -> StatusSummary:
    in_scope = scope.where(Alert.unit_id)
    counts = dict(
        session.execute(
            select(Alert.state, func.count())
            .where(Alert.state != AlertState.RESOLVED.value, in_scope)
            .group_by(Alert.state)
        ).all()
    )
    wanted = [AlertState.OPEN.value] if state == OPEN else [
        AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value
    ]  # fmt: skip
    rows = session.execute(
        select(Alert, Unit)
        .outerjoin(Unit, Unit.id == Alert.unit_id)
        .where(Alert.state.in_(wanted), in_scope)
        .order_by(Alert.opened_at.desc())
        .limit(500)
    )
    ordered = sorted(rows, key=lambda row: SEVERITY_RANK[Severity(row[0].severity)])[:limit]
    items = [
        StatusItem(
            f"{alert.title} ({alert.severity})",
            alert.state,
            unit.code if unit else None,
            unit.name if unit else None,
            alert.opened_at,
            "/alerts",
        )
        for alert, unit in ordered
    ]
    return StatusSummary("alerts", counts, items, "/alerts")


PROVIDER = StatusProvider("alerts", (OPEN, AlertState.ACKNOWLEDGED.value), summarize)
