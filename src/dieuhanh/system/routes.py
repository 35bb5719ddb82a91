"""HTTP API about the running installation: background jobs and the event log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import select

from dieuhanh.api.deps import CurrentPrincipal, Db
from dieuhanh.api.routing import api_router
from dieuhanh.auth.roles import Permission
from dieuhanh.auth.scope import require
from dieuhanh.core.jobs import JobRecord
from dieuhanh.core.jobs import store as job_store
from dieuhanh.db.base import utcnow
from dieuhanh.events import EventRecord

router = api_router("system")


class JobOut(BaseModel):
    name: str
    description: str
    interval_seconds: float
    timeout_seconds: float
    running: bool
    last_run_by: str | None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_duration_s: float | None
    last_success_at: datetime | None
    last_result: str | None
    last_error: str | None
    last_error_at: datetime | None
    failures_in_a_row: int
    runs: int
    next_run_at: datetime | None
    run_requested_by: str | None
    run_requested_at: datetime | None

    @classmethod
    def of(cls, record: JobRecord, now: datetime) -> JobOut:
        fields = {name: getattr(record, name) for name in cls.model_fields if name != "running"}
        return cls(running=record.running(now), **fields)


@router.get(
    "/jobs",
    response_model=list[JobOut],
    summary="Background jobs of every worker",
    description="Each job's last run (by which process), duration, last success, last error, "
    "failures in a row, next run and whether it runs now. The same from every process: the "
    "state is in the database, written by the schedulers (`dieuhanh worker`, the demo).",
)
def list_jobs(db: Db, principal: CurrentPrincipal) -> list[JobOut]:
    require(principal, Permission.READ_ALL)
    now = utcnow()
    return [JobOut.of(record, now) for record in job_store.all_jobs(db)]


@router.post(
    "/jobs/{name}/run",
    response_model=JobOut,
    summary="Run a job now",
    description="Makes the job due now: the next free worker runs it (within a few seconds "
    "while a worker is running). A run in progress is not interrupted.",
)
def run_job_now(name: str, db: Db, principal: CurrentPrincipal) -> JobOut:
    require(principal, Permission.WRITE_ALL)
    now = utcnow()
    record = job_store.request_run(db, name, principal.username, now)
    db.commit()
    return JobOut.of(record, now)


class EventOut(BaseModel):
    id: int
    at: datetime
    topic: str
    payload: dict[str, Any]


@router.get(
    "/events",
    response_model=list[EventOut],
    summary="Events after an id, oldest first",
    description="For programs following changes (e.g. camera.state_changed): ask again "
    "with `after` = the last id received. Within the reader's unit scope.",
)
def list_events(
    db: Db,
    principal: CurrentPrincipal,
    after: Annotated[int, Query(ge=0)] = 0,
    topic: Annotated[str | None, Query(max_length=60)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EventOut]:
    statement = select(EventRecord).where(EventRecord.id > after)
    scope = principal.read_scope
    if not scope.is_everything:
        statement = statement.where(scope.where(EventRecord.unit_id))
    if topic:
        statement = statement.where(EventRecord.topic.startswith(topic))
    rows = db.scalars(statement.order_by(EventRecord.id).limit(limit))
    return [EventOut.model_validate(row, from_attributes=True) for row in rows]
