"""Subscribers' cursors: one row per named subscriber, the only record of what it has handled.

The row is the subscriber's cursor (the id of the last event it handled), its failure state
(failures in a row on one event, when to retry, when it was parked and why) and the topics it
follows (so that any process, e.g. the web API, can tell how far behind it is). Delivery moves
the cursor in the same transaction as the handler's own changes. A process delivering a batch
holds the row locked (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite's single writer), so two
processes running the same subscriber never deliver the same event side by side.

Unparking (``resume``) is a person's act: it goes through the ORM and so into the audit log; the
dispatcher's own bookkeeping is plain SQL and is not audited (it would bury the log).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Integer, String, Text, false, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from dieuhanh.core.db.base import Base, JSONType, UTCDateTime, utcnow
from dieuhanh.core.errors import InvalidInput, NotFound
from dieuhanh.core.events.log import CHANNEL, EventRecord, latest_event_id
from dieuhanh.core.events.notify import RESUME
from dieuhanh.core.events.topics import is_pattern

State = Literal["live", "retrying", "parked"]


class EventSubscriber(Base):
    __tablename__ = "event_subscribers"
    __audited__ = True
    __audit_ignore__ = frozenset(
        {"topics", "last_error", "last_error_at", "retry_at", "delivered_at"}
    )

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    topics: Mapped[list[str]] = mapped_column(JSONType)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row, on failing_event_id
    failing_event_id: Mapped[int | None] = mapped_column(Integer)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def audit_label(self) -> str:
        return self.name

    @property
    def state(self) -> State:
        if self.parked_at is not None:
            return "parked"
        return "retrying" if self.failures else "live"


def topic_filter(selectors: list[str] | tuple[str, ...]) -> ColumnElement[bool]:
    """SQL selecting the events of these topic names and ``prefix.*`` patterns."""
    exact = [selector for selector in selectors if not is_pattern(selector)]
    prefixes = [selector[:-1] for selector in selectors if is_pattern(selector)]
    conditions: list[ColumnElement[bool]] = [
        EventRecord.topic.startswith(prefix, autoescape=True) for prefix in prefixes
    ]
    if exact:
        conditions.append(EventRecord.topic.in_(exact))
    return or_(*conditions) if conditions else false()


def ensure_subscribers(
    session: Session, declared: list[tuple[str, tuple[str, ...], Literal["latest", "earliest"]]]
) -> None:
    """Create missing cursor rows (at the newest event, or before the first) and record topics.

    Safe when several processes start at once: an existing row is never reset.
    """
    newest = latest_event_id(session)
    now = utcnow()
    for name, topics, start in declared:
        values: dict[str, Any] = {
            "name": name,
            "topics": list(topics),
            "last_event_id": newest if start == "latest" else 0,
            "failures": 0,
            "created_at": now,
            "updated_at": now,
        }
        dialect = session.get_bind().dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(EventSubscriber)
        session.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["name"]))
        session.execute(
            update(EventSubscriber).where(EventSubscriber.name == name).values(topics=list(topics))
        )


@dataclass(frozen=True)
class SubscriberStatus:
    name: str
    topics: list[str]
    last_event_id: int
    lag: int  # events of its topics after its cursor
    state: State
    failures: int
    failing_event_id: int | None
    retry_at: datetime | None
    parked_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    delivered_at: datetime | None
    updated_at: datetime


def subscriber_statuses(session: Session) -> list[SubscriberStatus]:
    rows = session.scalars(select(EventSubscriber).order_by(EventSubscriber.name)).all()
    return [_status(session, row) for row in rows]


def _status(session: Session, row: EventSubscriber) -> SubscriberStatus:
    lag = session.scalar(
        select(func.count())
        .select_from(EventRecord)
        .where(EventRecord.id > row.last_event_id, topic_filter(row.topics))
    )
    return SubscriberStatus(
        name=row.name,
        topics=list(row.topics),
        last_event_id=row.last_event_id,
        lag=int(lag or 0),
        state=row.state,
        failures=row.failures,
        failing_event_id=row.failing_event_id,
        retry_at=row.retry_at,
        parked_at=row.parked_at,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
        delivered_at=row.delivered_at,
        updated_at=row.updated_at,
    )


def resume(session: Session, name: str, *, skip: bool = False) -> SubscriberStatus:
    """Deliver again now: clear the parked state and the backoff; ``skip`` passes the failing
    event (it is never handled by this subscriber). The caller commits."""
    row = session.get(EventSubscriber, name, with_for_update=True)
    if row is None:
        raise NotFound(f"no event subscriber named {name!r}", code="subscriber_not_found")
    if skip:
        if row.failing_event_id is None:
            raise InvalidInput(
                f"subscriber {name!r} is not failing on any event: nothing to skip",
                code="nothing_to_skip",
            )
        row.last_event_id = max(row.last_event_id, row.failing_event_id)
    row.parked_at, row.retry_at, row.failures = None, None, 0
    if skip:
        row.failing_event_id = None
    row.updated_at = utcnow()
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_notify('{CHANNEL}', '{RESUME}')"))
    return _status(session, row)
