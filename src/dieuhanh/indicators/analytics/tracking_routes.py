"""HTTP API following reports up: completeness, validation results, reminders (issue 5)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy import select

from dieuhanh.core.access import Principal, authorize
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import NotFound
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.analytics.analytics_routes import PeriodQuery, periods_of
from dieuhanh.indicators.analytics.targets import tree_unit, unit_by_code
from dieuhanh.indicators.catalog.form_models import Reminder, ReportForm
from dieuhanh.indicators.reporting import reminders, service, validation
from dieuhanh.indicators.reporting.completeness import (
    Completeness,
    Counts,
    assigned_units,
    completeness,
    form_periods,
)
from dieuhanh.indicators.values.rollup import TreeUnit, load_tree
from dieuhanh.units.models import Unit

router = api_router("reporting")
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
FormQuery = Annotated[str, Query(max_length=50, description="The report form's code")]
UnitQuery = Annotated[
    str | None,
    Query(max_length=32, description="A unit code (its subtree); default: your own unit"),
]


def _units_below(db: Db, principal: Principal, code: str | None) -> frozenset[int] | None:
    """The unit ids a request may cover: the given unit's subtree within the caller's scope;
    None (no restriction) for province staff asking for everything."""
    scope = principal.read_scope
    if code is None:
        return scope.unit_ids
    top = unit_by_code(db, code)
    authorize(principal, "read", top.id, top.name)
    below = load_tree(db, [tree_unit(top)]).unit_ids
    return below if scope.unit_ids is None else below & scope.unit_ids


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _counts(counts: Counts) -> dict[str, Any]:
    return {
        "expected": counts.expected,
        "submitted": counts.submitted,
        "onTime": counts.on_time,
        "late": counts.late,
        "missing": counts.missing,
        "reportingRate": _rate(counts.reporting_rate),
        "onTimeRate": _rate(counts.on_time_rate),
    }


def completeness_json(result: Completeness) -> dict[str, Any]:
    return {
        "form": result.form.code,
        "periods": [p.code for p in result.periods],
        "totals": _counts(result.totals),
        "units": [
            {
                "unit": row.code,
                "unitName": row.name,
                "periods": {code: state.value for code, state in row.states.items()},
                **_counts(row.counts),
            }
            for row in result.units
        ],
    }


@router.get(
    "/completeness",
    summary="Expected, submitted and on-time reports of a form, per unit and in total",
    description="Each unit's state per period: on_time, late, missing or not_due (deadline "
    "not passed). Rates count due or submitted reports; units sorted worst first.",
)
def get_completeness(
    db: Db,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    form: FormQuery,
    period: PeriodQuery,
    unit: UnitQuery = None,
) -> dict[str, Any]:
    report = service.get_form(db, form)
    result = completeness(
        db,
        report,
        periods_of(period, runtime),
        restrict_to=_units_below(db, principal, unit),
        now=utcnow(),
    )
    return completeness_json(result)


@router.get(
    "/forms/{code}/validation",
    summary="Validation rules a unit's report breaks, for the entry page after each save",
)
def get_form_validation(
    code: str,
    db: Db,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(max_length=12, description="The form's period code")],
    unit: UnitQuery = None,
    roll_up: Annotated[
        bool, Query(alias="rollUp", description="Check the subtree's totals, not own values")
    ] = False,
) -> dict[str, Any]:
    report = service.get_form(db, code)
    target = unit_by_code(db, unit or principal.unit_code)
    authorize(principal, "read", target.id, target.name)
    wanted = service.form_period(report, period)
    found = validation.run_rules(db, report, target, wanted, roll_up=roll_up)
    return {
        "form": report.code,
        "unit": target.code,
        "period": wanted.code,
        "violations": [v.to_json() for v in found],
    }


@router.get(
    "/validationViolations",
    summary="Broken validation rules of a form per unit and period",
)
def get_violations(
    db: Db,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    form: FormQuery,
    period: PeriodQuery,
    unit: UnitQuery = None,
    importance: Annotated[str | None, Query(pattern="^(high|medium|low)$")] = None,
) -> dict[str, Any]:
    report = service.get_form(db, form)
    periods = form_periods(report, periods_of(period, runtime))
    units = [
        TreeUnit(u.id, u.code, u.name, "", None)
        for u in assigned_units(db, report, _units_below(db, principal, unit))
    ]
    found = validation.check(db, report, units, periods)
    if importance is not None:
        found = [v for v in found if v.importance == importance]
    return {
        "form": report.code,
        "periods": [p.code for p in periods],
        "violations": [v.to_json() for v in found],
    }


def reminder_json(reminder: Reminder, form: ReportForm, unit: Unit, done: bool) -> dict[str, Any]:
    return {
        "id": reminder.id,
        "form": form.code,
        "formName": form.name,
        "unit": unit.code,
        "unitName": unit.name,
        "period": reminder.period_code,
        "kind": reminder.kind,
        "message": reminder.message,
        "createdAt": reminder.created_at,
        "readAt": reminder.read_at,
        "resolved": done,
    }


@router.get(
    "/reminders",
    summary="Reminders to a unit: deadlines near or passed, rule violations below it",
    description="`resolved`: the report has been completed since the reminder was made.",
)
def get_reminders(
    db: Db,
    principal: CurrentPrincipal,
    unit: UnitQuery = None,
    unread: Annotated[bool, Query(description="Only those not yet marked read")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    target = unit_by_code(db, unit or principal.unit_code)
    authorize(principal, "read", target.id, target.name)
    statement = (
        select(Reminder, ReportForm)
        .join(ReportForm, ReportForm.id == Reminder.form_id)
        .where(Reminder.unit_id == target.id)
        .order_by(Reminder.created_at.desc(), Reminder.id.desc())
        .limit(limit)
    )
    if unread:
        statement = statement.where(Reminder.read_at.is_(None))
    found = [(reminder, form) for reminder, form in db.execute(statement)]
    done = reminders.resolved(db, [reminder for reminder, _ in found])
    return [reminder_json(r, f, target, r.id in done) for r, f in found]


@router.post("/reminders/{reminder_id:int}/read", summary="Mark a reminder read")
def mark_read(reminder_id: int, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    reminder = db.get(Reminder, reminder_id)
    if reminder is None:
        raise NotFound(f"No reminder {reminder_id}.", code="reminder_not_found")
    unit = db.get(Unit, reminder.unit_id)
    assert unit is not None  # a foreign key
    authorize(principal, "read", unit.id, unit.name)
    if reminder.read_at is None:
        reminder.read_at = utcnow()
        db.commit()
    form = db.get(ReportForm, reminder.form_id)
    assert form is not None
    done = reminders.resolved(db, [reminder])
    return reminder_json(reminder, form, unit, reminder.id in done)
