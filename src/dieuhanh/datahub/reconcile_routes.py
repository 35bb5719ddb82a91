"""HTTP API of aggregates (datasets into values) and reconciliations (đối soát)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from dieuhanh.core.access import Permission, require
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.datahub.models import (
    DatasetAggregate,
    MismatchState,
    Reconciliation,
    ReconciliationMismatch,
)
from dieuhanh.datahub.reconcile import (
    AggregateSpec,
    ReconciliationSpec,
    mismatches,
    parse,
    reconcile,
    resolve_mismatch,
    run_aggregate,
    save_aggregate,
    save_reconciliation,
)
from dieuhanh.units.models import Unit

router = api_router("datahub")


class AggregateOut(BaseModel):
    code: str
    name: str
    figure: dict[str, Any]
    element: str
    option: str | None
    periods: str
    last_run_at: datetime | None
    last_result: str | None


class ReconciliationOut(BaseModel):
    code: str
    name: str
    left: dict[str, Any]
    right: dict[str, Any]
    periods: str
    tolerance_absolute: float
    tolerance_relative: float
    last_run_at: datetime | None
    last_result: str | None


class MismatchOut(BaseModel):
    id: int
    unit: str
    unit_name: str
    period: str
    left_value: float | None
    right_value: float | None
    difference: float
    state: str
    first_seen_at: datetime
    last_seen_at: datetime
    closed_at: datetime | None
    resolved_by: str | None
    resolution: str | None


class ResolutionIn(BaseModel):
    resolution: str


@router.get("/aggregates", response_model=list[AggregateOut], summary="Dataset aggregates")
def list_aggregates(db: Db, principal: CurrentPrincipal) -> list[AggregateOut]:
    require(principal, Permission.READ_ALL)
    rows = db.scalars(select(DatasetAggregate).order_by(DatasetAggregate.code))
    return [AggregateOut.model_validate(row, from_attributes=True) for row in rows]


@router.post(
    "/aggregates",
    response_model=AggregateOut,
    summary="Declare (or replace) a dataset aggregate",
    description="`{code, name, figure: {dataset, date_field, period_type, measure: count | "
    "sum:<field>, where: [{field, op, value | other_field}]}, element, option, periods}`: the "
    "records of a dataset counted or summed per unit and period into an element's values.",
)
def declare_aggregate(body: dict[str, Any], db: Db, principal: CurrentPrincipal) -> AggregateOut:
    require(principal, Permission.MANAGE_SOURCES)
    row = save_aggregate(db, parse(AggregateSpec, body))
    db.commit()
    return AggregateOut.model_validate(row, from_attributes=True)


@router.post(
    "/aggregates/{code}/run",
    summary="Compute an aggregate now",
    description="Stores the values through the one write path: `{importCount, conflicts}`.",
)
def run_aggregate_now(
    code: str, request: Request, db: Db, principal: CurrentPrincipal
) -> dict[str, Any]:
    require(principal, Permission.MANAGE_SOURCES)
    summary = run_aggregate(db, code, get_runtime(request).today())
    db.commit()
    return summary.to_json()


@router.get("/reconciliations", response_model=list[ReconciliationOut], summary="Reconciliations")
def list_reconciliations(db: Db, principal: CurrentPrincipal) -> list[ReconciliationOut]:
    require(principal, Permission.READ_ALL)
    rows = db.scalars(select(Reconciliation).order_by(Reconciliation.code))
    return [ReconciliationOut.model_validate(row, from_attributes=True) for row in rows]


@router.post(
    "/reconciliations",
    response_model=ReconciliationOut,
    summary="Declare (or replace) a reconciliation",
    description="`{code, name, left, right, periods, tolerance_absolute, tolerance_relative}`; "
    "`left` and `right` are figures: `{element, option}` (stored values) or a dataset "
    "figure as for aggregates.",
)
def declare_reconciliation(
    body: dict[str, Any], db: Db, principal: CurrentPrincipal
) -> ReconciliationOut:
    require(principal, Permission.MANAGE_SOURCES)
    row = save_reconciliation(db, parse(ReconciliationSpec, body))
    db.commit()
    return ReconciliationOut.model_validate(row, from_attributes=True)


@router.post(
    "/reconciliations/{code}/run",
    summary="Reconcile now",
    description="`{compared, matched, mismatched, opened, cleared}`.",
)
def run_reconciliation(
    code: str, request: Request, db: Db, principal: CurrentPrincipal
) -> dict[str, int]:
    require(principal, Permission.MANAGE_SOURCES)
    report = reconcile(db, code, get_runtime(request).today())
    db.commit()
    return dict(report.__dict__)


@router.get(
    "/reconciliations/{code}/mismatches",
    response_model=list[MismatchOut],
    summary="Differences found, open first",
    description="`state`: `open`, `resolved`, `cleared` (all when omitted); within my scope.",
)
def list_mismatches(
    code: str,
    db: Db,
    principal: CurrentPrincipal,
    state: Annotated[MismatchState | None, Query()] = None,
) -> list[MismatchOut]:
    return [_mismatch_out(m, unit) for m, unit in mismatches(db, principal, code, state)]


@router.post(
    "/reconciliations/{code}/mismatches/{mismatch_id}/resolve",
    response_model=MismatchOut,
    summary="Resolve a mismatch with an explanation",
)
def resolve(
    code: str, mismatch_id: int, body: ResolutionIn, db: Db, principal: CurrentPrincipal
) -> MismatchOut:
    require(principal, Permission.MANAGE_SOURCES)
    mismatch = resolve_mismatch(db, code, mismatch_id, principal, body.resolution)
    db.commit()
    unit = db.get_one(Unit, mismatch.unit_id)
    return _mismatch_out(mismatch, unit)


def _mismatch_out(mismatch: ReconciliationMismatch, unit: Unit) -> MismatchOut:
    return MismatchOut(
        id=mismatch.id, unit=unit.code, unit_name=unit.name, period=mismatch.period_code,
        left_value=mismatch.left_value, right_value=mismatch.right_value,
        difference=mismatch.difference, state=mismatch.state,
        first_seen_at=mismatch.first_seen_at, last_seen_at=mismatch.last_seen_at,
        closed_at=mismatch.closed_at, resolved_by=mismatch.resolved_by,
        resolution=mismatch.resolution,
    )  # fmt: skip
