"""Completeness and timeliness of a report form: who was expected, who submitted, who on time.

A (unit, period) pair is *expected* when the unit is assigned the form and existed during the
period (units carry valid_from / valid_to since the 2025 merger). Its state:

- ``on_time`` / ``late``: a Submission exists; its ``on_time`` was fixed when it was completed;
- ``missing``: no submission and the deadline (end of period end + timely_days, province time)
  has passed;
- ``not_due``: no submission yet, and the deadline has not passed.

Rates count only pairs that are due or submitted: a month still running is not "missing", so this
month's reporting rate is not dragged down by communes that still have time (DHIS2 counts every
period in the range as expected; we keep its formula, submitted ÷ expected × 100, on the pairs
that can fairly be judged).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.errors import InvalidInput
from dieuhanh.indicators.catalog.form_models import ReportForm, ReportFormUnit, Submission
from dieuhanh.indicators.catalog.periods import Period, PeriodType, periods_between
from dieuhanh.indicators.reporting.locks import timely_deadline
from dieuhanh.units.models import Unit

# A stored value's place, as in indicators.rollup: (unit id, period start, period end).
Cell = tuple[int, date, date]


class State(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    NOT_DUE = "not_due"


def form_periods(form: ReportForm, periods: Iterable[Period]) -> list[Period]:
    """The form's own periods inside the requested ones (2026 → its twelve months)."""
    kind = PeriodType(form.period_type)
    found: set[Period] = set()
    for period in periods:
        if period.type.rank < kind.rank:
            raise InvalidInput(
                f"Form {form.code} is reported per {kind} period; {period.code} is a shorter "
                f"{period.type} period. Ask for {kind} periods or longer.",
                code="invalid_period",
            )
        found.update(period.split(kind))
    return sorted(found)


@dataclass(frozen=True)
class AssignedUnit:
    id: int
    code: str
    name: str
    valid_from: date | None
    valid_to: date | None


def existed(unit: AssignedUnit, period: Period) -> bool:
    """The unit existed at some moment of the period (merged units stop being expected)."""
    started = unit.valid_from is None or unit.valid_from <= period.end
    not_ended = unit.valid_to is None or unit.valid_to > period.start
    return started and not_ended


def assigned_units(
    session: Session, form: ReportForm, restrict_to: frozenset[int] | None = None
) -> list[AssignedUnit]:
    statement = (
        select(Unit.id, Unit.code, Unit.name, Unit.valid_from, Unit.valid_to)
        .join(ReportFormUnit, ReportFormUnit.unit_id == Unit.id)
        .where(ReportFormUnit.form_id == form.id)
        .order_by(Unit.name_key)
    )
    if restrict_to is not None:
        statement = statement.where(Unit.id.in_(sorted(restrict_to)))
    return [AssignedUnit(*row) for row in session.execute(statement)]


def report_states(
    session: Session,
    form: ReportForm,
    periods: list[Period],
    units: list[AssignedUnit],
    now: datetime,
) -> dict[tuple[int, Period], State]:
    """The state of every expected (unit, period) pair; pairs not expected are absent."""
    if not periods or not units:
        return {}
    submitted = {
        (unit_id, code): on_time
        for unit_id, code, on_time in session.execute(
            select(Submission.unit_id, Submission.period_code, Submission.on_time).where(
                Submission.form_id == form.id,
                Submission.period_code.in_([p.code for p in periods]),
                Submission.unit_id.in_([u.id for u in units]),
            )
        )
    }
    states: dict[tuple[int, Period], State] = {}
    due = {period: now >= timely_deadline(form, period) for period in periods}
    for unit in units:
        for period in periods:
            if not existed(unit, period):
                continue
            on_time = submitted.get((unit.id, period.code))
            if on_time is not None:
                states[(unit.id, period)] = State.ON_TIME if on_time else State.LATE
            else:
                states[(unit.id, period)] = State.MISSING if due[period] else State.NOT_DUE
    return states


@dataclass(frozen=True)
class Counts:
    expected: int = 0
    submitted: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0

    @classmethod
    def of(cls, states: Iterable[State]) -> Counts:
        tally = {state: 0 for state in State}
        for state in states:
            tally[state] += 1
        submitted = tally[State.ON_TIME] + tally[State.LATE]
        return cls(
            expected=submitted + tally[State.MISSING],
            submitted=submitted,
            on_time=tally[State.ON_TIME],
            late=tally[State.LATE],
            missing=tally[State.MISSING],
        )

    @property
    def reporting_rate(self) -> float | None:
        return rate(self.submitted, self.expected)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.expected)


def rate(part: float, whole: float) -> float | None:
    return None if not whole else part / whole * 100


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    states: dict[str, State]  # period code → state
    counts: Counts


@dataclass(frozen=True)
class Completeness:
    form: ReportForm
    periods: list[Period]
    totals: Counts
    units: list[UnitRow]  # worst first


def completeness(
    session: Session,
    form: ReportForm,
    periods: Iterable[Period],
    *,
    restrict_to: frozenset[int] | None,
    now: datetime,
) -> Completeness:
    """The form's scorecard over ``periods``: per unit and in total, worst units first.

    ``restrict_to``: only these units (a scope, a subtree); None: every assigned unit.
    """
    wanted = form_periods(form, periods)
    units = assigned_units(session, form, restrict_to)
    states = report_states(session, form, wanted, units, now)
    rows = []
    for unit in units:
        own = {p.code: states[(unit.id, p)] for p in wanted if (unit.id, p) in states}
        rows.append(UnitRow(unit.code, unit.name, own, Counts.of(own.values())))
    rows.sort(key=_worst_first)
    return Completeness(form, wanted, Counts.of(states.values()), rows)


def _worst_first(row: UnitRow) -> tuple[float, float, int, str]:
    # Units with nothing due yet sort last: there is nothing to reproach them.
    reporting = row.counts.reporting_rate
    on_time = row.counts.on_time_rate
    return (
        101.0 if reporting is None else reporting,
        101.0 if on_time is None else on_time,
        -row.counts.missing,
        row.name,
    )


# The R{FORM.METRIC} items of indicator expressions, and how each comes from the counts.
REPORTING_METRICS = (
    "REPORTING_RATE",
    "REPORTING_RATE_ON_TIME",
    "ACTUAL_REPORTS",
    "ACTUAL_REPORTS_ON_TIME",
    "EXPECTED_REPORTS",
)


def reporting_cells(
    session: Session,
    form: ReportForm,
    unit_ids: frozenset[int],
    first: date,
    last: date,
    *,
    now: datetime,
) -> dict[str, dict[Cell, float]]:
    """Expected, submitted and on-time reports as values per (unit, form period), so analytics
    can roll them up the unit tree and over periods like element values (they add up)."""
    kind = PeriodType(form.period_type)
    periods = [p for p in periods_between(kind, first, last) if first <= p.start and p.end <= last]
    units = assigned_units(session, form, unit_ids)
    states = report_states(session, form, periods, units, now)
    cells: dict[str, dict[Cell, float]] = {"expected": {}, "actual": {}, "on_time": {}}
    for (unit_id, period), state in states.items():
        if state is State.NOT_DUE:
            continue
        cell = (unit_id, period.start, period.end)
        cells["expected"][cell] = 1.0
        if state in (State.ON_TIME, State.LATE):
            cells["actual"][cell] = 1.0
        if state is State.ON_TIME:
            cells["on_time"][cell] = 1.0
    return cells


def metric_value(metric: str, expected: float, actual: float, on_time: float) -> float | None:
    """One R{FORM.METRIC} figure from rolled-up counts."""
    if metric == "REPORTING_RATE":
        return rate(actual, expected)
    if metric == "REPORTING_RATE_ON_TIME":
        return rate(on_time, expected)
    if metric == "ACTUAL_REPORTS":
        return actual
    if metric == "ACTUAL_REPORTS_ON_TIME":
        return on_time
    if metric == "EXPECTED_REPORTS":
        return expected
    raise ValueError(f"unknown reporting metric {metric!r}; one of {', '.join(REPORTING_METRICS)}")
