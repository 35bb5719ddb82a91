"""The job table's statements: register, claim, finish, list, request a run.

Each change a scheduler makes is one conditional UPDATE, so that on SQLite and PostgreSQL alike
two processes deciding at the same moment cannot both win: the database applies one UPDATE, the
other then finds its condition false and changes no row.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dieuhanh.core.errors import NotFound
from dieuhanh.core.jobs.models import MESSAGE_LENGTH, JobRecord


@dataclass(frozen=True)
class Definition:
    name: str
    description: str
    interval_seconds: float
    timeout_seconds: float


@dataclass(frozen=True)
class Claim:
    """A run this process owns: identified by the process and the moment it started."""

    name: str
    process: str
    started_at: datetime


@dataclass(frozen=True)
class Outcome:
    finished_at: datetime
    duration_s: float
    next_run_at: datetime
    result: str | None = None  # on success
    error: str | None = None  # on failure, already made readable


def register(session: Session, definitions: Sequence[Definition], now: datetime) -> None:
    """Add missing jobs (due now), update the definitions of known ones; keep their state.

    Schedulers starting together may both insert: ``ON CONFLICT DO NOTHING`` makes the second
    insert a no-op instead of an error.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for job in definitions:
        values = {
            "description": job.description,
            "interval_seconds": job.interval_seconds,
            "timeout_seconds": job.timeout_seconds,
        }
        session.execute(
            dialect.insert(JobRecord)
            .values(name=job.name, next_run_at=now, failures_in_a_row=0, runs=0, **values)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        session.execute(update(JobRecord).where(JobRecord.name == job.name).values(**values))


def claim(session: Session, name: str, process: str, now: datetime) -> Claim | None:
    """Own this job's run if it is due and nobody holds a live lease; None otherwise.

    A lease that ran out means its process died or hung mid-run: taking it over records that as
    the previous run's failure, so the person reading the job sees what happened.
    """
    record = session.get(JobRecord, name, populate_existing=True)
    if record is None or (record.next_run_at is not None and record.next_run_at > now):
        return None
    # A lease still running whose process is known to be gone (on this host, its pid no longer
    # exists: a worker killed and restarted) is taken over at once rather than when it runs out.
    holder_gone = record.running(now) and holder_is_gone(record.last_run_by)
    if record.running(now) and not holder_gone:
        return None
    values: dict[str, Any] = {
        "last_started_at": now,
        "last_run_by": process,
        "lease_until": now + timedelta(seconds=record.timeout_seconds),
    }
    if record.lease_until is not None:  # a run that never finished
        values |= _abandoned(record, now, holder_gone)
    lease_free = or_(JobRecord.lease_until.is_(None), JobRecord.lease_until <= now)
    claimed = session.execute(
        update(JobRecord)
        .where(
            JobRecord.name == name,
            or_(JobRecord.next_run_at.is_(None), JobRecord.next_run_at <= now),
            true() if holder_gone else lease_free,  # _unchanged_since still refuses a race
            _unchanged_since(record),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return Claim(name, process, now) if claimed.rowcount == 1 else None  # type: ignore[attr-defined]


def _unchanged_since(record: JobRecord) -> ColumnElement[bool]:
    """True while nobody claimed the job since ``record`` was read: every claim moves its start."""
    started = record.last_started_at
    same_start = (
        JobRecord.last_started_at.is_(None)
        if started is None
        else JobRecord.last_started_at == started
    )
    lease = record.lease_until
    same_lease = (
        JobRecord.lease_until.is_(None) if lease is None else JobRecord.lease_until == lease
    )
    return same_start & same_lease


def holder_is_gone(process: str | None) -> bool:
    """Whether the process named ``host:pid:token`` ran on this host and no longer exists."""
    host, _, rest = (process or "").partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, owned by someone else
        return False
    return False


def _abandoned(record: JobRecord, now: datetime, holder_gone: bool) -> dict[str, Any]:
    started = f"{record.last_started_at:%Y-%m-%d %H:%M:%S} UTC" if record.last_started_at else "?"
    why = (
        "its process no longer exists (it was killed or crashed)"
        if holder_gone
        else f"it did not finish within its {record.timeout_seconds:g} s lease (the process "
        "stopped or hung)"
    )
    message = (
        f"the run started at {started} by {record.last_run_by} did not finish: {why}; run again"
    )
    return {
        "last_error": message[:MESSAGE_LENGTH],
        "last_error_at": now,
        "failures_in_a_row": JobRecord.failures_in_a_row + 1,
        "runs": JobRecord.runs + 1,
    }


def finish(session: Session, run: Claim, outcome: Outcome) -> bool:
    """Record the run and release the lease; False if the lease had been taken over meanwhile."""
    values: dict[str, Any] = {
        "last_finished_at": outcome.finished_at,
        "last_duration_s": round(outcome.duration_s, 3),
        "next_run_at": outcome.next_run_at,
        "lease_until": None,
        "runs": JobRecord.runs + 1,
    }
    if outcome.error is None:
        values |= {
            "last_success_at": outcome.finished_at,
            "failures_in_a_row": 0,
            "last_result": None if outcome.result is None else outcome.result[:MESSAGE_LENGTH],
        }
    else:
        values |= {
            "last_error": outcome.error[:MESSAGE_LENGTH],
            "last_error_at": outcome.finished_at,
            "failures_in_a_row": JobRecord.failures_in_a_row + 1,
        }
    result = session.execute(
        update(JobRecord)
        .where(
            JobRecord.name == run.name,
            JobRecord.last_run_by == run.process,
            JobRecord.last_started_at == run.started_at,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def failures_in_a_row(session: Session, name: str) -> int:
    return session.scalar(select(JobRecord.failures_in_a_row).where(JobRecord.name == name)) or 0


def get(session: Session, name: str) -> JobRecord | None:
    return session.get(JobRecord, name, populate_existing=True)


def all_jobs(session: Session) -> list[JobRecord]:
    return list(session.scalars(select(JobRecord).order_by(JobRecord.name)))


def request_run(session: Session, name: str, who: str, now: datetime) -> JobRecord:
    """Make the job due now: the next scheduler to look runs it (an ORM change, so audited)."""
    record = session.get(JobRecord, name)
    if record is None:
        known = ", ".join(r.name for r in all_jobs(session)) or "none yet: no worker has started"
        raise NotFound(
            f"There is no job named {name!r} (known jobs: {known}).", code="job_not_found"
        )
    record.next_run_at = now
    record.run_requested_by = who[:100]
    record.run_requested_at = now
    return record


def due_or_leased(record: JobRecord | None, now: datetime) -> datetime | None:
    """When to look at this job again: the end of a live lease, else its next run."""
    if record is None:
        return None
    if record.running(now):
        return record.lease_until
    return record.next_run_at
