"""The first real consumer of the event stream: the named subscriber ``alerts.rules`` reads
every topic the other capabilities publish, through the enabled rules. Its cursor is in the
database, so no event is missed across a restart, and the alert it raises commits in the same
transaction as the cursor's move, so none raises two alerts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dieuhanh.alerts.service import Batch, evaluate
from dieuhanh.core.events import EventRecord, Subscription
from dieuhanh.core.runtime import Runtime

SUBSCRIBER = "alerts.rules"
_BATCH = "dieuhanh.alerts.batch"  # session.info key: what the batch's events share


def subscriptions(runtime: Runtime) -> list[Subscription]:
    # Every topic but its own alerts (a rule on alerts would feed on itself).
    watched = tuple(name for name in runtime.topics.names() if not name.startswith("alert."))
    if not watched:
        return []
    return [Subscription(SUBSCRIBER, watched, handle, prepare=prepare, batch_size=200)]


def prepare(session: Session, events: list[EventRecord]) -> None:
    """The engine once per batch, and in one query each the memory and the active alerts of
    every rule × subject the batch touches."""
    batch = Batch.start(session)
    batch.load_for((event.topic, event.payload) for event in events)
    session.info[_BATCH] = batch


def handle(session: Session, event: EventRecord) -> None:
    batch: Batch | None = session.info.get(_BATCH)
    evaluate(session, event.topic, event.payload, event.at, batch)
