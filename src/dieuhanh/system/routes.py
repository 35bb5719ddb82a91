"""HTTP API about the running installation: background jobs and the event log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from dieuhanh.core.access import Permission, Principal, Role, require
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import Forbidden, InvalidInput
from dieuhanh.core.events import (
    EventRecord,
    SubscriberStatus,
    UnknownTopic,
    resume,
    subscriber_statuses,
)
from dieuhanh.core.events.cursors import topic_filter
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.jobs import JobRecord
from dieuhanh.core.jobs import store as job_store

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
    "with `after` = the last id received. `topic` is a topic name or a pattern such as "
    "`camera.*`; an unknown one is an error listing the declared topics. Within the reader's "
    "unit scope.",
)
def list_events(
    request: Request,
    db: Db,
    principal: CurrentPrincipal,
    after: Annotated[int, Query(ge=0)] = 0,
    topic: Annotated[str | None, Query(max_length=62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EventOut]:
    statement = select(EventRecord).where(EventRecord.id > after)
    scope = principal.read_scope
    if not scope.is_everything:
        statement = statement.where(scope.where(EventRecord.unit_id))
    if topic:
        registry = get_runtime(request).topics
        try:
            registry.resolve(topic)
        except UnknownTopic as exc:
            raise InvalidInput(
                str(exc), code="unknown_topic", details=[{"known_topics": registry.names()}]
            ) from None
        statement = statement.where(topic_filter([topic]))
    rows = db.scalars(statement.order_by(EventRecord.id).limit(limit))
    return [EventOut.model_validate(row, from_attributes=True) for row in rows]


class TopicOut(BaseModel):
    name: str
    description: str
    payload_schema: dict[str, Any]


@router.get(
    "/events/topics",
    response_model=list[TopicOut],
    summary="Declared event topics",
    description="Every topic a capability publishes: its name, when it is published and the "
    "JSON schema of its payload.",
)
def list_topics(request: Request, principal: CurrentPrincipal) -> list[TopicOut]:
    return [
        TopicOut(name=topic.name, description=topic.description, payload_schema=topic.json_schema())
        for topic in get_runtime(request).topics
    ]


@router.get(
    "/events/subscribers",
    response_model=list[SubscriberStatus],
    summary="Event subscribers and how far behind they are",
    description="Each named subscriber of every process: its cursor, its lag (events of its "
    "topics after the cursor), its state (live, retrying, parked) and its last error.",
)
def list_subscribers(db: Db, principal: CurrentPrincipal) -> list[SubscriberStatus]:
    require(principal, Permission.READ_ALL)
    return subscriber_statuses(db)


def _require_admin(principal: Principal) -> None:
    if principal.role != Role.PROVINCE_ADMIN:
        raise Forbidden(
            "Only a province administrator may resume an event subscriber.",
            code="permission_denied",
        )


@router.post(
    "/events/subscribers/{name}/resume",
    response_model=SubscriberStatus,
    summary="Resume a parked event subscriber",
    description="Clears the parked state and the backoff: the subscriber tries its failing "
    "event again at once. With `skip=true` it passes over that event instead (never handled by "
    "this subscriber). Province administrators only; audited.",
)
def resume_subscriber(
    name: str,
    db: Db,
    principal: CurrentPrincipal,
    skip: Annotated[bool, Query()] = False,
) -> SubscriberStatus:
    _require_admin(principal)
    status = resume(db, name, skip=skip)
    db.commit()
    return status
