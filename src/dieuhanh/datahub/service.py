"""Declaring sources (API, YAML file, demo) and the sync job's round."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select
from sqlalchemy.orm import Session

from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import Conflict, DieuhanhError
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.freshness import refresh_state
from dieuhanh.datahub.models import (
    DatasetAggregate,
    DataSource,
    Reconciliation,
    RunPayload,
    Trigger,
)
from dieuhanh.datahub.reconcile import reconcile, run_aggregate
from dieuhanh.datahub.runs import run_source
from dieuhanh.datahub.spec import SourceSpec

log = logging.getLogger(__name__)


def save_source(session: Session, spec: SourceSpec, *, create_only: bool = False) -> DataSource:
    """Create the source or replace its declaration (state, history and cursor stay). A new or
    rescheduled source runs at the next sync round."""
    source = session.scalar(select(DataSource).where(DataSource.code == spec.code))
    if source is not None and create_only:
        raise Conflict(f"Data source '{spec.code}' exists already.", code="source_exists")
    if source is None:
        source = DataSource(code=spec.code, cursor={}, next_run_at=utcnow())
        session.add(source)
    elif source.schedule != spec.schedule:
        source.next_run_at = utcnow()
    if source.kind is not None and source.kind != spec.kind:
        source.cursor = {}  # another connector's cursor means nothing
    source.name, source.kind, source.config = spec.name, spec.kind, spec.config
    source.schedule = spec.schedule
    source.freshness = (
        spec.freshness.model_dump(mode="json", exclude_none=True) if spec.freshness else None
    )
    source.enabled = spec.enabled
    session.flush()
    return source


@dataclass
class SyncReport:
    ran: int = 0
    failed: int = 0
    changed: int = 0

    def __str__(self) -> str:
        return f"{self.ran} run(s), {self.failed} failed, {self.changed} state change(s)"


def sync_round(runtime: Runtime, now: datetime | None = None) -> SyncReport:
    """Run every enabled, scheduled source that is due, then re-assess every source's state
    (time alone makes a source late)."""
    report = SyncReport()
    now = now or utcnow()
    with runtime.sessions() as session:
        due = session.scalars(
            select(DataSource.code)
            .where(
                DataSource.enabled.is_(True),
                DataSource.schedule.is_not(None),
                or_(DataSource.next_run_at.is_(None), DataSource.next_run_at <= now),
                or_(DataSource.running_until.is_(None), DataSource.running_until < now),
            )
            .order_by(DataSource.next_run_at)
        ).all()
    for code in due:
        try:
            outcome = run_source(runtime, code, trigger=Trigger.SCHEDULE)
        except DieuhanhError as exc:  # running elsewhere since the query above
            log.info("data source %s not run: %s", code, exc)
            continue
        report.ran += 1
        report.failed += outcome.status == "failed"
    with runtime.sessions() as session:
        for source in session.scalars(select(DataSource).where(DataSource.enabled.is_(True))):
            report.changed += refresh_state(session, source, utcnow(), runtime.settings.timezone)
        session.commit()
    return report


def trim_payloads(runtime: Runtime) -> int:
    """Delete raw payloads past their retention; what they produced stays."""
    before = utcnow() - timedelta(days=runtime.settings.datahub.payload_retention_days)
    with runtime.sessions() as session:
        result = session.execute(delete(RunPayload).where(RunPayload.received_at < before))
        session.commit()
    return int(cast(CursorResult[Any], result).rowcount or 0)


def refresh_figures(runtime: Runtime) -> str:
    """Every aggregate, then every reconciliation (which may compare an aggregate's values);
    one failing does not stop the others."""
    done, failed = 0, []
    with runtime.sessions() as session:
        set_actor(session, SYSTEM)
        aggregates = session.scalars(select(DatasetAggregate.code)).all()
        reconciliations = session.scalars(select(Reconciliation.code)).all()
    for code, work in [(c, run_aggregate) for c in aggregates] + [
        (c, reconcile) for c in reconciliations
    ]:
        with runtime.sessions() as session:
            set_actor(session, SYSTEM)
            try:
                work(session, code, runtime.today())
                session.commit()
                done += 1
            except DieuhanhError as exc:
                session.rollback()
                failed.append(f"{code}: {exc}")
    return f"{done} computed" + (f"; failed: {'; '.join(failed)}" if failed else "")
