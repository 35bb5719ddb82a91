"""Freshness: the sync job runs what is due and marks sources late as time passes; each change
of state is published once, with its reason."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.events import EventRecord
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.models import DataSource, SourceRun
from dieuhanh.datahub.service import save_source, sync_round
from dieuhanh.datahub.spec import parse_spec
from dieuhanh.datahub.standins import IGateStandIn, igate_source


def state_events(runtime: Runtime) -> list[tuple[str, str, str | None]]:
    with runtime.sessions() as session:
        events = session.scalars(
            select(EventRecord)
            .where(EventRecord.topic == "source.state_changed")
            .order_by(EventRecord.id)
        )
        return [
            (e.payload["previous_state"], e.payload["state"], e.payload["reason"]) for e in events
        ]


def test_due_sources_run_and_late_ones_are_marked(hub: Runtime, igate: IGateStandIn) -> None:
    with hub.sessions() as session:
        set_actor(session, SYSTEM)
        save_source(session, parse_spec(igate_source(igate.url, schedule="0 6 * * *")))
        session.commit()
    first = sync_round(hub)  # a new source is due at once
    assert (first.ran, first.failed) == (1, 0)
    with hub.sessions() as session:
        source = session.scalars(select(DataSource)).one()
        assert source.state == "live"
        assert source.next_run_at is not None and source.next_run_at > utcnow()
    assert sync_round(hub).ran == 0  # not due again before 06:00

    # Time passes: the last success is now older than the 30 minutes the source allows.
    with hub.sessions() as session:
        source = session.scalars(select(DataSource)).one()
        source.last_success_at = utcnow() - timedelta(minutes=45)
        session.commit()
    report = sync_round(hub)
    assert (report.ran, report.changed) == (0, 1)
    with hub.sessions() as session:
        source = session.scalars(select(DataSource)).one()
        assert source.state == "late"
        assert "must be at most 30 min old" in (source.state_reason or "")
        assert session.query(SourceRun).count() == 1
    moves = state_events(hub)
    assert [(before, after) for before, after, _ in moves] == [("never", "live"), ("live", "late")]
    assert moves[1][2] is not None and moves[1][2].startswith("last synced ")


def test_a_failed_run_is_retried_with_backoff(hub: Runtime, igate: IGateStandIn) -> None:
    with hub.sessions() as session:
        set_actor(session, SYSTEM)
        save_source(session, parse_spec(igate_source(igate.url, schedule="0 6 * * *")))
        session.commit()
    igate.faults = ["500", "500"]
    assert sync_round(hub).failed == 1
    with hub.sessions() as session:
        source = session.scalars(select(DataSource)).one()
        assert source.state == "failing" and source.failures == 1
        retry_in = source.next_run_at - utcnow() if source.next_run_at else None
        assert retry_in is not None and timedelta(seconds=30) < retry_in <= timedelta(seconds=60)
        source.next_run_at = utcnow()  # the minute has passed
        session.commit()
    assert sync_round(hub).failed == 0
    assert [after for _, after, _ in state_events(hub)] == ["failing", "live"]
