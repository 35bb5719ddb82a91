"""How current each source is: live, late, failing or never synced, and why.

Failing wins over the rest (the last run failed, whatever came before); then never (no success
yet); then late (the last success is older than the source's freshness allows); else live. A
change of state is published as ``source.state_changed`` with its reason, in the transaction
that records it, so the alerts capability sees each change exactly once.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from dieuhanh.core.events import publish
from dieuhanh.datahub.models import DataSource, SourceState
from dieuhanh.datahub.spec import Freshness
from dieuhanh.datahub.topics import STATE_CHANGED


def assess(source: DataSource, now: datetime, timezone: str) -> tuple[SourceState, str | None]:
    zone = ZoneInfo(timezone)
    failed_last = source.last_error is not None and (
        source.last_success_at is None
        or (source.last_run_at is not None and source.last_run_at > source.last_success_at)
    )
    if failed_last:
        return SourceState.FAILING, source.last_error
    if source.last_success_at is None:
        return SourceState.NEVER, "never synced"
    if source.freshness:
        rule = Freshness.model_validate(source.freshness)
        if source.last_success_at < rule.due_after(now.astimezone(zone)):
            seen = source.last_success_at.astimezone(zone).strftime("%d/%m/%Y %H:%M")
            return SourceState.LATE, f"last synced {seen}; must be {rule.describe()}"
    return SourceState.LIVE, None


def refresh_state(session: Session, source: DataSource, now: datetime, timezone: str) -> bool:
    """Record the source's state now; publish when it changed. True when it changed."""
    state, reason = assess(source, now, timezone)
    if state == source.state:
        source.state_reason = reason
        return False
    previous = SourceState(source.state)
    source.state, source.state_reason, source.state_since = state, reason, now
    publish(
        session,
        STATE_CHANGED,
        {
            "code": source.code,
            "name": source.name,
            "kind": source.kind,
            "state": state,
            "previous_state": previous,
            "reason": reason,
            "last_success_at": (
                source.last_success_at.isoformat() if source.last_success_at else None
            ),
            "at": now.isoformat(),
        },
    )
    return True
