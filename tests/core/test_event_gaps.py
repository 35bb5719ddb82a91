"""Ids committed out of order are never skipped (see core/events/horizon.py)."""

from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import OperationalError

from dieuhanh.core.db.engine import make_session_factory
from dieuhanh.core.events import Horizon, Subscription, bind_topics, publish
from dieuhanh.core.runtime import Runtime
from tests.core.kit import REGISTRY, handled_ids, recording_handler, subscribe
from tests.core.kit import deliver as deliver_all


def refresh(horizon: Horizon, engine: Engine) -> int:
    with engine.connect() as connection:
        horizon.refresh(connection)
        connection.rollback()
    return horizon.settled


def test_an_event_committed_after_a_later_one_is_still_delivered(events_runtime: Runtime) -> None:
    engine = events_runtime.engine
    sub = Subscription("gaps", ("test.ping",), recording_handler("gaps"), start="earliest")
    subscribe(events_runtime.sessions, sub)
    horizon = Horizon()
    if engine.dialect.name == "sqlite":
        _sqlite_gives_ids_in_commit_order(events_runtime)
        return
    slow, fast = events_runtime.sessions(), events_runtime.sessions()
    try:
        early = publish(slow, "test.ping", {"n": 1})
        slow.flush()  # takes the lower id, not committed yet
        late = publish(fast, "test.ping", {"n": 2})
        fast.commit()  # the higher id is visible first
        assert early.id < late.id
        assert refresh(horizon, engine) < early.id and horizon.waiting
        assert refresh(horizon, engine) < early.id  # still open: the slow one is running
        slow.commit()
    finally:
        slow.close()
        fast.close()
    for _ in range(3):
        refresh(horizon, engine)
    assert horizon.settled == late.id and not horizon.waiting
    deliver_all(events_runtime.sessions, sub)
    assert handled_ids(engine, "gaps") == [early.id, late.id]


def _sqlite_gives_ids_in_commit_order(events_runtime: Runtime) -> None:
    """SQLite's premise: while one transaction holds an event id, no other can take the next."""
    url = events_runtime.engine.url
    impatient = create_engine(url, connect_args={"timeout": 0.2})
    sessions = make_session_factory(impatient)
    bind_topics(sessions, REGISTRY)
    holder = events_runtime.sessions()
    try:
        publish(holder, "test.ping", {"n": 1})
        holder.flush()
        with sessions() as other, pytest.raises(OperationalError) as raised:
            publish(other, "test.ping", {"n": 2})
            other.flush()
        assert isinstance(raised.value.orig, sqlite3.OperationalError)
        assert "locked" in str(raised.value.orig)
    finally:
        holder.rollback()
        holder.close()
        impatient.dispose()


def test_a_rolled_back_event_leaves_a_hole_that_closes(events_runtime: Runtime) -> None:
    engine = events_runtime.engine
    horizon = Horizon()
    with events_runtime.sessions() as session:
        publish(session, "test.ping", {"n": 1})
        session.flush()
        session.rollback()  # its id is never used
        kept = publish(session, "test.ping", {"n": 2})
        session.commit()
    # The hole closes once no transaction that started before it is still open — on
    # PostgreSQL any transaction of the cluster, such as another test worker's: wait, bounded.
    deadline = time.monotonic() + 30
    while True:
        refresh(horizon, engine)
        if horizon.settled == kept.id or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert horizon.settled == kept.id


def test_the_horizon_takes_the_run_without_holes_and_fences_the_rest() -> None:
    horizon = Horizon(settled=10)
    horizon.observe([11, 12, 14, 15], xmax=500)
    assert horizon.settled == 12 and horizon.fence is not None
    assert (horizon.fence.upto, horizon.fence.xid) == (15, 500)
    horizon.observe([13, 14, 15, 16], xmax=510)  # the hole filled: all contiguous now
    assert horizon.settled == 16 and horizon.fence is None
