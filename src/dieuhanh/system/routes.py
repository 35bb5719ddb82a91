"""HTTP API about the running installation: background jobs and the event log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from dieuhanh.core.access import Permission, require
from dieuhanh.core.http.deps import CurrentPrincipal, Db
from dieuhanh.core.http.routing import api_router
from dieuhanh.events import EventRecord

router = api_router("system")


class JobOut(BaseModel):
    name: str
    interval_seconds: float
    runs: int
    failures: int
    running: bool
    last_started_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    last_duration_s: float | None
    last_result: str | None


@router.get(
    "/jobs",
    response_model=list[JobOut],
    summary="Background jobs of this process",
    description="Last success and last error of each job (empty where no jobs run).",
)
def list_jobs(request: Request, principal: CurrentPrincipal) -> list[JobOut]:
    require(principal, Permission.READ_ALL)
    scheduler = request.app.state.scheduler
    if scheduler is None:
        return []
    return [
        JobOut.model_validate(state, from_attributes=True) for state in scheduler.states.values()
    ]


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
