"""Events: facts other capabilities react to (a camera went dead, a report arrived late).

Publishing writes a row in the same transaction as the change that caused it, so an event exists
exactly when its cause was committed. After the commit, subscribers in this process are called;
other processes (a worker, another replica) read the table from the last id they saw
(``GET /api/v1/events?after=ID``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from dieuhanh.core.db.base import Base, JSONType, UTCDateTime, utcnow

log = logging.getLogger(__name__)
_PENDING = "dieuhanh_events"


class EventRecord(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    topic: Mapped[str] = mapped_column(String(60), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)


Subscriber = Callable[[EventRecord], None]


@dataclass
class EventBus:
    _subscribers: list[tuple[str, Subscriber]] = field(default_factory=list)

    def subscribe(self, topic_prefix: str, callback: Subscriber) -> None:
        self._subscribers.append((topic_prefix, callback))

    def dispatch(self, records: list[EventRecord]) -> None:
        for record in records:
            for prefix, callback in self._subscribers:
                if record.topic.startswith(prefix):
                    try:
                        callback(record)
                    except Exception:  # one subscriber's bug must not stop the others
                        log.exception("event subscriber failed on %s #%s", record.topic, record.id)


def publish(
    session: Session, topic: str, payload: dict[str, Any], unit_id: int | None = None
) -> EventRecord:
    record = EventRecord(topic=topic, payload=payload, unit_id=unit_id, at=utcnow())
    session.add(record)
    session.info.setdefault(_PENDING, []).append(record)
    return record


def install(factory: sessionmaker[Session], bus: EventBus) -> None:
    def after_commit(session: Session) -> None:
        bus.dispatch(session.info.pop(_PENDING, []))

    def after_rollback(session: Session) -> None:
        session.info.pop(_PENDING, None)

    event.listen(factory, "after_commit", after_commit)
    event.listen(factory, "after_soft_rollback", lambda session, _tx: after_rollback(session))
