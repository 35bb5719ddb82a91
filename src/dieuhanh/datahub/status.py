"""The sources' state for the assistant (core.status): how many are live, late, failing, never
run, and which need attention. Sources serve the whole province and belong to no unit, so only
an account that reads the whole province sees them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dieuhanh.core.access import Scope
from dieuhanh.core.status import StatusItem, StatusProvider, StatusSummary
from dieuhanh.datahub.models import DataSource, SourceState

ATTENTION = (SourceState.FAILING.value, SourceState.LATE.value)


def summarize(session: Session, scope: Scope, state: str | None, limit: int) -> StatusSummary:
    if not scope.is_everything:
        return StatusSummary("sources", {}, [], "/datahub")
    counts = dict(
        session.execute(select(DataSource.state, func.count()).group_by(DataSource.state)).all()
    )
    wanted = [state] if state else list(ATTENTION)
    rows = session.scalars(
        select(DataSource)
        .where(DataSource.state.in_(wanted))
        .order_by(DataSource.state_since, DataSource.code)
        .limit(limit)
    )
    items = [
        StatusItem(f"{s.name} ({s.code})", s.state, since=s.state_since, link="/datahub")
        for s in rows
    ]
    return StatusSummary("sources", counts, items, "/datahub")


PROVIDER = StatusProvider("sources", tuple(s.value for s in SourceState), summarize)
