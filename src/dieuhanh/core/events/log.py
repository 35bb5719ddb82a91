"""The event log: facts other capabilities react to (a camera went dead, a report arrived late).

Publishing writes a row of ``events`` in the caller's transaction, so an event exists exactly when
the change that caused it was committed, and a rolled-back change leaves no event. Every process
reads the log: subscribers through the dispatcher (``delivery``), programs through
``GET /api/v1/events?after=ID``.

Each event is checked against its topic's declared schema before it is written. The topic registry
travels on the session factory (``bind_topics``, done by ``build_runtime``). A session made without
one (a hand-built ``Session(engine)``) cannot publish: an unchecked event in a log that other
processes read for 90 days would be a bug found far from its cause, so it is refused at once with
an error saying how to make the session.

On PostgreSQL, publishing also queues ``pg_notify`` in the same transaction (it fires at commit,
waking listening dispatchers) and, in the same statement, makes the transaction take its
transaction id before the event takes its id: the delivery horizon relies on that order (see
``horizon``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ForeignKey, String, event, func, select, text
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column, sessionmaker

from dieuhanh.core.db.base import Base, JSONType, UTCDateTime, utcnow
from dieuhanh.core.events.topics import EventError, TopicRegistry

CHANNEL = "dieuhanh_events"
_REGISTRY = "dieuhanh.topics"
_NOTIFIED = "dieuhanh.events_notified"
_WAKE = text(f"SELECT pg_current_xact_id(), pg_notify('{CHANNEL}', '')")


class EventRecord(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    topic: Mapped[str] = mapped_column(String(60), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)


def bind_topics(factory: sessionmaker[Session], registry: TopicRegistry) -> None:
    """Sessions from ``factory`` check what they publish against ``registry``."""
    info = dict(factory.kw.get("info") or {})
    info[_REGISTRY] = registry
    factory.configure(info=info)


def topics_of(session: Session) -> TopicRegistry:
    registry = session.info.get(_REGISTRY)
    if not isinstance(registry, TopicRegistry):
        raise EventError(
            "this session has no topic registry, so it cannot publish events: use a session "
            "from runtime.sessions (or call core.events.bind_topics on its factory)"
        )
    return registry


def publish(
    session: Session,
    topic: str,
    payload: dict[str, Any] | BaseModel,
    unit_id: int | None = None,
) -> EventRecord:
    """Add an event to the caller's transaction; it is visible to readers once that commits.

    Raises ``UnknownTopic`` or ``PayloadMismatch`` (before anything is written) when the topic is
    not declared or the payload does not match its schema.
    """
    stored = topics_of(session).validate(topic, payload)
    if session.get_bind().dialect.name == "postgresql":
        _wake_listeners_at_commit(session)
    record = EventRecord(topic=topic, payload=stored, unit_id=unit_id, at=utcnow())
    session.add(record)
    return record


def _wake_listeners_at_commit(session: Session) -> None:
    # Once per transaction: PostgreSQL folds identical notifications of one transaction anyway.
    # Remembered with the (innermost) transaction that queued it: a savepoint rolled back takes
    # its pg_notify with it, and the next publication must queue one again.
    queued = session.info.get(_NOTIFIED)
    if queued is not None and _root(queued) is session.get_transaction():
        return
    session.execute(_WAKE)
    session.info[_NOTIFIED] = session.get_nested_transaction() or session.get_transaction()
    if not event.contains(session, "after_soft_rollback", _forget_rolled_back_wake_up):
        event.listen(session, "after_soft_rollback", _forget_rolled_back_wake_up)


def _forget_rolled_back_wake_up(session: Session, rolled_back: SessionTransaction) -> None:
    """A rollback of the transaction that queued the wake-up, or of one around it, undid it."""
    transaction = session.info.get(_NOTIFIED)
    while transaction is not None:
        if transaction is rolled_back:
            session.info.pop(_NOTIFIED, None)
            return
        transaction = transaction.parent


def _root(transaction: SessionTransaction) -> SessionTransaction:
    while transaction.parent is not None:
        transaction = transaction.parent
    return transaction


def latest_event_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(EventRecord.id), 0))) or 0)
