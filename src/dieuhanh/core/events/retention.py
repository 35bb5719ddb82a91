"""Retention: events older than ``events.retention_days`` are deleted by a job.

The newest event is always kept, however old: SQLite gives a new row the highest id + 1, so an
emptied table would hand out ids that subscribers' cursors have already passed. A subscriber that
falls further behind than the retention loses the trimmed events; its lag is visible long before
(``GET /api/v1/events/subscribers``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dieuhanh.core.events.log import EventRecord


def trim_events(session: Session, now: datetime, retention_days: int) -> int:
    """Delete events older than ``retention_days`` before ``now``; the number deleted.

    The caller commits."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    cutoff = now - timedelta(days=retention_days)
    newest = select(func.max(EventRecord.id)).scalar_subquery()
    result = session.execute(
        delete(EventRecord)
        .where(EventRecord.at < cutoff, EventRecord.id < newest)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
