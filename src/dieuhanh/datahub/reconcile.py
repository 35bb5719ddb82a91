"""Aggregates (a dataset turned into values) and reconciliation (đối soát) of two figures.

Reconciliation lines the two figures up by unit and period. A pair that differs by more than
the tolerance (``max(absolute, relative × the larger figure)``) opens a mismatch, which stays
one row while it lasts (its figures refreshed at each run); it is closed as ``cleared`` when the
figures agree again, or ``resolved`` by a person with an explanation. A new difference after
that opens a new row: the history of mismatches and their resolutions is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.access import Principal
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import Conflict, InvalidInput, NotFound
from dieuhanh.datahub.datasets import field_names, known_field
from dieuhanh.datahub.figures import Figure, compute
from dieuhanh.datahub.models import (
    DatasetAggregate,
    MismatchState,
    Reconciliation,
    ReconciliationMismatch,
)
from dieuhanh.datahub.spec import CODE, describe_errors
from dieuhanh.indicators.catalog.models import DataElement, Source
from dieuhanh.indicators.catalog.periods import PeriodError, resolve_periods
from dieuhanh.indicators.values.save import ImportSummary, ValueRow, save_values
from dieuhanh.units.models import Unit


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE.pattern)
    name: str = Field(min_length=1, max_length=200)
    periods: str = Field(default="LAST_12_MONTHS", min_length=1, max_length=200)

    @field_validator("periods")
    @classmethod
    def _periods(cls, value: str) -> str:
        try:
            resolve_periods(value, date(2026, 1, 1))
        except PeriodError as exc:
            raise ValueError(str(exc)) from None
        return value


class AggregateSpec(_Spec):
    figure: Figure
    element: str = Field(min_length=1, max_length=50)
    option: str | None = None

    @field_validator("figure")
    @classmethod
    def _dataset(cls, value: Figure) -> Figure:
        if value.dataset is None:
            raise ValueError("an aggregate reads a dataset: give figure.dataset")
        return value


class ReconciliationSpec(_Spec):
    left: Figure
    right: Figure
    tolerance_absolute: float = Field(default=0.0, ge=0)
    tolerance_relative: float = Field(default=0.0, ge=0, le=1)


def parse(model: type[_Spec], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe_errors(exc), code="invalid_definition") from None


def check_figure(session: Session, figure: Figure, where: str) -> None:
    """A figure names an element of the catalogue and fields its dataset has (when they are
    known: a dataset may be declared before its first run): a typo would count nothing,
    silently."""
    if figure.element is not None:
        check_element(session, figure.element, f"{where}.element")
    if figure.dataset is None:
        return
    known = field_names(session, figure.dataset)
    for key, name in figure.named_fields():
        if known and not known_field(name, known):
            raise InvalidInput(
                f"{where}.{key}: '{name}' is not a field of dataset '{figure.dataset}' "
                f"(its fields: {', '.join(sorted(known)[:30])})",
                code="unknown_field",
            )


def check_element(session: Session, code: str, where: str) -> None:
    if not code:
        raise InvalidInput(f"{where}: give the data element's code", code="unknown_element")
    if session.scalar(select(DataElement.id).where(DataElement.code == code)) is None:
        raise InvalidInput(f"{where}: no data element '{code}'", code="unknown_element")


def save_aggregate(session: Session, spec: AggregateSpec) -> DatasetAggregate:
    check_element(session, spec.element, "element")
    check_figure(session, spec.figure, "figure")
    row = session.scalar(select(DatasetAggregate).where(DatasetAggregate.code == spec.code))
    if row is None:
        row = DatasetAggregate(code=spec.code)
        session.add(row)
    row.name, row.figure = spec.name, spec.figure.model_dump(mode="json", exclude_none=True)
    row.element, row.option, row.periods = spec.element, spec.option, spec.periods
    session.flush()
    return row


def save_reconciliation(session: Session, spec: ReconciliationSpec) -> Reconciliation:
    check_figure(session, spec.left, "left")
    check_figure(session, spec.right, "right")
    row = session.scalar(select(Reconciliation).where(Reconciliation.code == spec.code))
    if row is None:
        row = Reconciliation(code=spec.code)
        session.add(row)
    row.name, row.periods = spec.name, spec.periods
    row.left = spec.left.model_dump(mode="json", exclude_none=True)
    row.right = spec.right.model_dump(mode="json", exclude_none=True)
    row.tolerance_absolute, row.tolerance_relative = (
        spec.tolerance_absolute,
        spec.tolerance_relative,
    )
    session.flush()
    return row


def run_aggregate(session: Session, code: str, today: date) -> ImportSummary:
    """Compute the aggregate and store it through the one write path; the caller commits.
    Every unit with records in a period gets a value, zero included (a count that fell to zero
    must replace the old figure, not leave it)."""
    row = _get(session, DatasetAggregate, code)
    figure = Figure.model_validate(row.figure)
    periods = resolve_periods(row.periods, today)
    cells = compute(session, figure, periods)
    present = compute(session, figure.model_copy(update={"where": []}), periods)
    codes = {
        unit_id: unit_code for unit_id, unit_code in session.execute(select(Unit.id, Unit.code))
    }
    rows = [
        ValueRow(
            element=row.element,
            unit=codes[unit_id],
            period=period,
            value=_text(cells.get((unit_id, period), 0.0)),
            option=row.option,
        )
        for unit_id, period in sorted(present)
    ]
    summary = save_values(
        session, None, rows, source=Source.CONNECTOR, source_detail=f"datahub:aggregate {code}"
    )
    row.last_run_at = utcnow()
    row.last_result = (
        f"{summary.imported} new, {summary.updated} updated, {summary.ignored} unchanged, "
        f"{len(summary.conflicts)} refused"
    )
    return summary


@dataclass
class ReconcileReport:
    compared: int = 0
    matched: int = 0
    mismatched: int = 0
    opened: int = 0
    cleared: int = 0

    def __str__(self) -> str:
        return (
            f"{self.compared} compared, {self.matched} agree, {self.mismatched} differ "
            f"({self.opened} new, {self.cleared} cleared)"
        )


def reconcile(session: Session, code: str, today: date) -> ReconcileReport:
    """Line the two figures up and record what differs; the caller commits."""
    row = _get(session, Reconciliation, code)
    periods = resolve_periods(row.periods, today)
    left = compute(session, Figure.model_validate(row.left), periods)
    right = compute(session, Figure.model_validate(row.right), periods)
    open_rows = {
        (m.unit_id, m.period_code): m
        for m in session.scalars(
            select(ReconciliationMismatch).where(
                ReconciliationMismatch.reconciliation_id == row.id,
                ReconciliationMismatch.state == MismatchState.OPEN,
            )
        )
    }
    report, now = ReconcileReport(), utcnow()
    for key in sorted(set(left) | set(right)):
        mine, theirs = left.get(key), right.get(key)
        difference = (mine or 0.0) - (theirs or 0.0)
        allowed = max(
            row.tolerance_absolute,
            row.tolerance_relative * max(abs(mine or 0.0), abs(theirs or 0.0)),
        )
        report.compared += 1
        existing = open_rows.get(key)
        if abs(difference) <= allowed:
            report.matched += 1
            if existing is not None:
                existing.state, existing.closed_at = MismatchState.CLEARED, now
                report.cleared += 1
            continue
        report.mismatched += 1
        if existing is None:
            existing = ReconciliationMismatch(
                reconciliation_id=row.id, unit_id=key[0], period_code=key[1], first_seen_at=now
            )
            session.add(existing)
            report.opened += 1
        existing.left_value, existing.right_value = mine, theirs
        existing.difference, existing.last_seen_at = difference, now
    row.last_run_at, row.last_result = now, str(report)
    return report


def resolve_mismatch(
    session: Session, code: str, mismatch_id: int, principal: Principal, resolution: str
) -> ReconciliationMismatch:
    row = _get(session, Reconciliation, code)
    mismatch = session.get(ReconciliationMismatch, mismatch_id)
    if mismatch is None or mismatch.reconciliation_id != row.id:
        raise NotFound(f"No mismatch {mismatch_id} in '{code}'.", code="mismatch_not_found")
    if mismatch.state != MismatchState.OPEN:
        raise Conflict(f"Mismatch {mismatch_id} is {mismatch.state} already.", code="not_open")
    if not resolution.strip():
        raise InvalidInput("resolution: say which figure is right and why.", code="invalid_input")
    mismatch.state, mismatch.closed_at = MismatchState.RESOLVED, utcnow()
    mismatch.resolved_by, mismatch.resolution = principal.username, resolution.strip()[:2000]
    return mismatch


def mismatches(
    session: Session, principal: Principal, code: str, state: MismatchState | None = None
) -> list[tuple[ReconciliationMismatch, Unit]]:
    """A reconciliation's differences within the reader's scope: open first, then by period and
    unit."""
    row = _get(session, Reconciliation, code)
    query = (
        select(ReconciliationMismatch, Unit)
        .join(Unit, Unit.id == ReconciliationMismatch.unit_id)
        .where(
            ReconciliationMismatch.reconciliation_id == row.id,
            principal.read_scope.where(ReconciliationMismatch.unit_id),
        )
        .order_by(
            ReconciliationMismatch.state.desc(), ReconciliationMismatch.period_code, Unit.code
        )
    )
    if state is not None:
        query = query.where(ReconciliationMismatch.state == state)
    return [(mismatch, unit) for mismatch, unit in session.execute(query)]


def _get(session: Session, model: Any, code: str) -> Any:
    row = session.scalar(select(model).where(model.code == code))
    if row is None:
        raise NotFound(
            f"No {model.__tablename__[:-1].replace('_', ' ')} '{code}'.", code="not_found"
        )
    return row


def _text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
