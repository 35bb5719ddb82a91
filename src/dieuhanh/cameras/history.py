"""A camera's past: uptime per day and how often it flapped, from its state changes.

Uptime counts the time the monitor knew the state: live time ÷ (live + dead time). Time before
the first probe, or while nothing was known, counts for neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dieuhanh.cameras.models import CameraStateChange, State


@dataclass(frozen=True)
class DayUptime:
    day: date
    live_seconds: float
    dead_seconds: float
    changes: int

    @property
    def uptime_percent(self) -> float | None:
        known = self.live_seconds + self.dead_seconds
        return round(100 * self.live_seconds / known, 2) if known else None


def daily_uptime(
    session: Session, camera_id: int, days: int, now: datetime, zone: ZoneInfo
) -> list[DayUptime]:
    """The last ``days`` days (local calendar days, today included), oldest first."""
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    start = datetime.combine(first_day, time(), zone)
    changes = _changes(session, camera_id, start, now)
    result = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        day_start = datetime.combine(day, time(), zone)
        day_end = min(day_start + timedelta(days=1), now)
        live, dead, count = _durations(changes, day_start, day_end)
        result.append(DayUptime(day, live, dead, count))
    return result


def flaps(
    session: Session, camera_id: int, now: datetime, window: timedelta = timedelta(hours=24)
) -> int:
    """State changes (live ↔ dead) within the window: a flapping camera changes often."""
    rows = session.scalars(
        select(CameraStateChange.state)
        .where(CameraStateChange.camera_id == camera_id, CameraStateChange.at > now - window)
        .order_by(CameraStateChange.at)
    ).all()
    previous = _state_before(session, camera_id, now - window)
    count = 0
    for state in rows:
        if previous is not None and state != previous:
            count += 1
        previous = state
    return count


def last_change(session: Session, camera_id: int) -> datetime | None:
    return session.scalar(
        select(func.max(CameraStateChange.at)).where(CameraStateChange.camera_id == camera_id)
    )


def _changes(
    session: Session, camera_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, str]]:
    """Changes in [start, end], preceded by the state in force at ``start``."""
    rows = session.execute(
        select(CameraStateChange.at, CameraStateChange.state)
        .where(
            CameraStateChange.camera_id == camera_id,
            CameraStateChange.at >= start,
            CameraStateChange.at <= end,
        )
        .order_by(CameraStateChange.at)
    ).all()
    before = _state_before(session, camera_id, start)
    prefix = [(start, before)] if before is not None else []
    return prefix + [(at, state) for at, state in rows]


def _state_before(session: Session, camera_id: int, moment: datetime) -> str | None:
    return session.scalar(
        select(CameraStateChange.state)
        .where(CameraStateChange.camera_id == camera_id, CameraStateChange.at < moment)
        .order_by(CameraStateChange.at.desc())
        .limit(1)
    )


def _durations(
    changes: list[tuple[datetime, str]], start: datetime, end: datetime
) -> tuple[float, float, int]:
    live = dead = 0.0
    count = 0
    for index, (at, state) in enumerate(changes):
        following = changes[index + 1][0] if index + 1 < len(changes) else end
        begin, finish = max(at, start), min(following, end)
        if start <= at < end and index > 0 and changes[index - 1][1] != state:
            count += 1
        if finish <= begin:
            continue
        seconds = (finish - begin).total_seconds()
        if state == State.LIVE.value:
            live += seconds
        elif state == State.DEAD.value:
            dead += seconds
    return live, dead, count
