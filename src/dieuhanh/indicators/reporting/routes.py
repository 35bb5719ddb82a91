"""HTTP API of report forms: the forms themselves, validation rules, and each unit's completion,
approval and entry exceptions per period."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.access import Permission, Principal, authorize, require
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.catalog.form_models import ReportForm, ValidationRule
from dieuhanh.indicators.catalog.metadata import by_code, ensure_new
from dieuhanh.indicators.reporting import forms, service, validation
from dieuhanh.indicators.reporting.schemas import (
    CompletionOut,
    ExceptionIn,
    ExceptionOut,
    FormIn,
    FormOut,
    UnitPeriodIn,
    ValidationRuleIn,
    ValidationRuleOut,
)
from dieuhanh.units.models import Unit
from dieuhanh.units.service import get_unit

router = api_router("report forms")
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
UnitQuery = Annotated[str, Query(max_length=32, description="Unit code")]
PeriodQuery = Annotated[str, Query(max_length=12, description="Period code, e.g. 202603")]


def _unit_codes(db: Session) -> dict[int, str]:
    return {unit_id: code for unit_id, code in db.execute(select(Unit.id, Unit.code))}


def _form_codes(db: Session) -> dict[int, str]:
    return {form_id: code for form_id, code in db.execute(select(ReportForm.id, ReportForm.code))}


@router.get("/forms", response_model=list[FormOut], summary="Report forms")
def list_forms(db: Db) -> list[FormOut]:
    units = _unit_codes(db)
    return [FormOut.of(form, units) for form in service.list_forms(db)]


@router.post("/forms", response_model=FormOut, status_code=201, summary="Create a report form")
def create_form(body: FormIn, db: Db, principal: CurrentPrincipal, runtime: RuntimeDep) -> FormOut:
    require(principal, Permission.CONFIGURE_INDICATORS)
    if not body.code:
        raise InvalidInput("code is required.", code="missing_code")
    ensure_new(db, ReportForm, body.code, "report form", "/api/v1/forms")
    form = forms.save_form(db, body, runtime.settings.province_code)
    db.commit()
    return FormOut.of(form, _unit_codes(db))


@router.get("/forms/{code}", response_model=FormOut, summary="One report form")
def read_form(code: str, db: Db) -> FormOut:
    return FormOut.of(service.get_form(db, code), _unit_codes(db))


@router.put("/forms/{code}", response_model=FormOut, summary="Change a report form")
def update_form(
    code: str, body: FormIn, db: Db, principal: CurrentPrincipal, runtime: RuntimeDep
) -> FormOut:
    require(principal, Permission.CONFIGURE_INDICATORS)
    if body.code is not None and body.code != code:
        raise InvalidInput(
            f"The body's code '{body.code}' differs from '{code}'.", code="code_mismatch"
        )
    form = forms.save_form(db, body, runtime.settings.province_code, service.get_form(db, code))
    db.commit()
    return FormOut.of(form, _unit_codes(db))


@router.get("/validationRules", response_model=list[ValidationRuleOut], summary="Validation rules")
def list_rules(db: Db) -> list[ValidationRuleOut]:
    codes = _form_codes(db)
    rules = db.scalars(select(ValidationRule).order_by(ValidationRule.code))
    return [ValidationRuleOut.of(rule, codes) for rule in rules]


@router.post(
    "/validationRules",
    response_model=ValidationRuleOut,
    status_code=201,
    summary="Create a validation rule (left operator right; both sides are checked formulas)",
)
def create_rule(body: ValidationRuleIn, db: Db, principal: CurrentPrincipal) -> ValidationRuleOut:
    require(principal, Permission.CONFIGURE_INDICATORS)
    if not body.code:
        raise InvalidInput("code is required.", code="missing_code")
    ensure_new(db, ValidationRule, body.code, "validation rule", "/api/v1/validationRules")
    rule = forms.save_validation_rule(db, body)
    db.commit()
    return ValidationRuleOut.of(rule, _form_codes(db))


def _status(db: Session, form: ReportForm, unit: Unit, period_code: str) -> CompletionOut:
    period = service.form_period(form, period_code)
    status = service.form_status(db, form, unit, period, utcnow())
    submission, approval = status.submission, status.approval
    return CompletionOut(
        form=form.code,
        unit=unit.code,
        period=period.code,
        complete=submission is not None,
        completed_at=submission.completed_at if submission else None,
        completed_by=submission.completed_by if submission else None,
        on_time=submission.on_time if submission else None,
        approved=approval is not None,
        approved_by=approval.approved_by if approval else None,
        approved_at=approval.approved_at if approval else None,
        entry_open=status.entry.open,
        entry_closed_reason=status.entry.reason,
        entry_closes_at=status.entry.closes_at,
    )


def _target(
    db: Session, principal: Principal, code: str, unit_code: str, access: str
) -> tuple[ReportForm, Unit]:
    form = service.get_form(db, code)
    unit = get_unit(db, unit_code)
    authorize(principal, "write" if access == "write" else "read", unit.id, unit.name)
    return form, unit


@router.get(
    "/forms/{code}/status",
    response_model=CompletionOut,
    summary="Where a unit's form stands for a period: complete, approved, entry open",
)
def form_status(
    code: str, db: Db, principal: CurrentPrincipal, unit: UnitQuery, period: PeriodQuery
) -> CompletionOut:
    form, target = _target(db, principal, code, unit, "read")
    return _status(db, form, target, period)


@router.post(
    "/forms/{code}/completions",
    response_model=CompletionOut,
    summary="Mark the form complete for a unit and period (on time or late is recorded)",
)
def complete_form(
    code: str, body: UnitPeriodIn, db: Db, principal: CurrentPrincipal
) -> CompletionOut:
    form, unit = _target(db, principal, code, body.unit, "write")
    period = service.form_period(form, body.period)
    now = utcnow()
    service.complete(db, form, unit, period, principal.username, now)
    # High-importance rule violations are told to the parent unit (reporting.validation).
    validation.after_completion(db, form, unit, period, now)
    db.commit()
    return _status(db, form, unit, body.period)


@router.delete(
    "/forms/{code}/completions",
    response_model=CompletionOut,
    summary="Reopen a completed form (not once approved)",
)
def reopen_form(
    code: str, db: Db, principal: CurrentPrincipal, unit: UnitQuery, period: PeriodQuery
) -> CompletionOut:
    form, target = _target(db, principal, code, unit, "write")
    service.reopen(db, form, target, service.form_period(form, period))
    db.commit()
    return _status(db, form, target, period)


@router.post(
    "/forms/{code}/approvals",
    response_model=CompletionOut,
    summary="Approve a unit's complete form (province): its values are locked",
)
def approve_form(
    code: str, body: UnitPeriodIn, db: Db, principal: CurrentPrincipal
) -> CompletionOut:
    form, unit = _target(db, principal, code, body.unit, "read")
    period = service.form_period(form, body.period)
    service.approve(db, principal, form, unit, period, utcnow())
    db.commit()
    return _status(db, form, unit, body.period)


@router.delete(
    "/forms/{code}/approvals",
    response_model=CompletionOut,
    summary="Withdraw an approval (province): the values are editable again",
)
def unapprove_form(
    code: str, db: Db, principal: CurrentPrincipal, unit: UnitQuery, period: PeriodQuery
) -> CompletionOut:
    form, target = _target(db, principal, code, unit, "read")
    service.unapprove(db, principal, form, target, service.form_period(form, period))
    db.commit()
    return _status(db, form, target, period)


@router.post(
    "/forms/{code}/exceptions",
    response_model=ExceptionOut,
    status_code=201,
    summary="Reopen entry after the window closed, for one unit or all (province)",
)
def grant_exception(
    code: str, body: ExceptionIn, db: Db, principal: CurrentPrincipal
) -> ExceptionOut:
    form = by_code(db, ReportForm, code, "report form")
    unit = get_unit(db, body.unit) if body.unit else None
    period = service.form_period(form, body.period)
    if body.open_until.tzinfo is None:
        raise InvalidInput("open_until needs a time zone, e.g. +07:00.", code="naive_datetime")
    granted = service.grant_exception(
        db, principal, form, unit, period, body.open_until, body.reason, utcnow()
    )
    db.commit()
    return ExceptionOut(
        form=form.code,
        unit=unit.code if unit else None,
        period=period.code,
        open_until=granted.open_until,
        reason=granted.reason,
        granted_by=granted.granted_by,
        granted_at=granted.granted_at,
    )
