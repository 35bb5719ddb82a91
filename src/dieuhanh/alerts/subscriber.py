"""The first real consumer of the event stream: the named subscriber ``alerts.rules`` reads
every topic the other capabilities publish, through the enabled rules. Its cursor is in the
database, so no event is missed across a restart, and the alert it raises commits in the same
transaction as the cursor's move, so none raises two alerts.

A batch is handled at once (``handle_batch``: one savepoint, one flush of what it changed);
should it fail, the kernel redoes it with ``prepare`` and ``handle`` event by event to keep the
events before the failing one."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dieuhanh.alerts.engine import Touched
from dieuhanh.alerts.memory import Batch
from dieuhanh.alerts.service import evaluate, evaluate_batch
from dieuhanh.core.events import EventRecord, Subscription
from dieuhanh.core.runtime import Runtime

SUBSCRIBER = "alerts.rules"
_BATCH = "dieuhanh.alerts.batch"  # session.info key: what the batch's events share


def subscriptions(runtime: Runtime) -> list[Subscription]:
    # Every topic but its own alerts (a rule on alerts would feed on itself).
    watched = tuple(name for name in runtime.topics.names() if not name.startswith("alert."))
    if not watched:
        return []
    return [
        Subscription(
            SUBSCRIBER, watched, handle, prepare=prepare, batch_handler=handle_batch, batch_size=200
        )
    ]


def prepare(session: Session, events: list[EventRecord]) -> None:
    """The engine once per batch, each event's rules × subjects once, and in one query each the
    memory and the active alerts of every rule × subject the batch touches."""
    batch = Batch.start(session)
    touched = batch.load_for((event.topic, event.payload) for event in events)
    by_event = {event.id: each for event, each in zip(events, touched, strict=True)}
    session.info[_BATCH] = (batch, by_event)


def handle(session: Session, event: EventRecord) -> None:
    prepared: tuple[Batch, dict[int, Touched]] | None = session.info.get(_BATCH)
    if prepared is None:
        evaluate(session, event.topic, event.payload, event.at)
        return
    batch, touched = prepared
    evaluate(session, event.topic, event.payload, event.at, batch, touched.get(event.id))


def handle_batch(session: Session, events: list[EventRecord]) -> None:
    evaluate_batch(session, [(event.topic, event.payload, event.at) for event in events])
