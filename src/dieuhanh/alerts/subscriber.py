"""The first real consumer of the event stream: the named subscriber ``alerts.rules`` reads
every topic the other capabilities publish, through the enabled rules. Its cursor is in the
database, so no event is missed across a restart, and the alert it raises commits in the same
transaction as the cursor's move, so none raises two alerts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dieuhanh.alerts.engine import RuleEngine
from dieuhanh.alerts.service import DbMemory, UnitCodes, apply, current_engine
from dieuhanh.core.events import EventRecord, Subscription
from dieuhanh.core.runtime import Runtime

SUBSCRIBER = "alerts.rules"
_BATCH = "dieuhanh.alerts.batch"  # session.info key: what the batch's events share


def subscriptions(runtime: Runtime) -> list[Subscription]:
    watched = tuple(name for name in runtime.topics.names() if not name.startswith("alert."))
    if not watched:
        return []
    return [Subscription(SUBSCRIBER, watched, handle, prepare=prepare, batch_size=200)]


def prepare(session: Session, events: list[EventRecord]) -> None:
    """The engine once per batch, and the memory of every rule × subject it touches in one
    query (the handler then finds them in the session)."""
    engine = current_engine(session)
    DbMemory(session).load(
        pair for event in events for pair in engine.subjects_of(event.topic, event.payload)
    )
    session.info[_BATCH] = (engine, UnitCodes(session))


def handle(session: Session, event: EventRecord) -> None:
    shared: tuple[RuleEngine, UnitCodes] | None = session.info.get(_BATCH)
    engine, units = shared or (current_engine(session), UnitCodes(session))
    decisions = engine.evaluate(event.topic, event.payload, event.at, DbMemory(session))
    if decisions:
        apply(session, decisions, units)
