"""What the event tests share: test topics, a table handlers write to, helpers to deliver."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from dieuhanh.cameras import topics as camera_topics
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.events import (
    EventRecord,
    Horizon,
    Outcome,
    Subscription,
    Topic,
    TopicRegistry,
    run_until_idle,
)
from dieuhanh.core.events.cursors import ensure_subscribers


class Ping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


REGISTRY = TopicRegistry(
    (
        Topic("test.ping", Ping, "A numbered ping, published by the tests."),
        Topic("test.note", Note, "A note, published by the tests."),
        *camera_topics.TOPICS,
    )
)

# Outside the application's metadata: only the event tests create it.
METADATA = MetaData()
HANDLED = Table(
    "test_handled",
    METADATA,
    Column("seq", Integer, primary_key=True),
    Column("subscriber", String(100), nullable=False),
    Column("event_id", Integer, nullable=False),
)


def create_handled_table(engine: Engine) -> None:
    METADATA.create_all(engine)


def recording_handler(name: str):  # type: ignore[no-untyped-def]
    """A handler whose only effect is a row in the handler's transaction."""

    def handle(session: Session, record: EventRecord) -> None:
        session.execute(HANDLED.insert().values(subscriber=name, event_id=record.id))

    return handle


def handled_ids(engine: Engine, name: str) -> list[int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(HANDLED.c.event_id).where(HANDLED.c.subscriber == name).order_by(HANDLED.c.seq)
        )
        return [row.event_id for row in rows]


def event_ids(engine: Engine, topic_prefix: str = "test.") -> list[int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(EventRecord.id)
            .where(EventRecord.topic.startswith(topic_prefix))
            .order_by(EventRecord.id)
        )
        return [row.id for row in rows]


def count_handled(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(HANDLED)) or 0)


def horizon_now(engine: Engine) -> int:
    """The delivery horizon as a fresh process would find it (every hole closed by now)."""
    horizon = Horizon()
    with engine.connect() as connection:
        for _ in range(3):  # a hole takes a second read to close
            horizon.refresh(connection)
            connection.rollback()
    return horizon.settled


def deliver(
    sessions: sessionmaker[Session], subscription: Subscription, now: datetime | None = None
) -> Outcome:
    engine = sessions.kw["bind"]
    moment = now or utcnow()
    return run_until_idle(sessions, subscription, horizon_now(engine), lambda: moment)


def subscribe(sessions: sessionmaker[Session], *subscriptions: Subscription) -> None:
    with sessions() as session:
        ensure_subscribers(session, [(s.name, s.topics, s.start) for s in subscriptions])
        session.commit()
