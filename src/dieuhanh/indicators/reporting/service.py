"""Report forms and their life per unit and period: completing, reopening, approving, entry
exceptions (issue 5).

Who may do what: completing and reopening are checked against the caller's write scope by the
routes (a commune completes its own report); approving, unapproving and granting exceptions need
the province-level ``approve_reports`` permission, checked here so no caller can forget it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dieuhanh.core.access import Permission, Principal, require
from dieuhanh.core.errors import Conflict, InvalidInput, NotFound
from dieuhanh.core.events import publish
from dieuhanh.indicators.catalog.form_models import (
    Approval,
    ApprovalState,
    EntryException,
    ReportForm,
    ReportFormUnit,
    Submission,
)
from dieuhanh.indicators.catalog.periods import Period, PeriodError, PeriodType, parse_period
from dieuhanh.indicators.reporting.locks import (
    approved_state,
    latest_exception,
    timely_deadline,
    window_state,
)
from dieuhanh.indicators.reporting.topics import FORM_SUBMITTED, ReportFormEvent
from dieuhanh.indicators.values.hooks import EntryState
from dieuhanh.units.models import Unit


def get_form(session: Session, code: str) -> ReportForm:
    form = session.scalar(select(ReportForm).where(ReportForm.code == code))
    if form is None:
        raise NotFound(f"No report form with code '{code}'.", code="form_not_found")
    return form


def list_forms(session: Session) -> list[ReportForm]:
    return list(session.scalars(select(ReportForm).order_by(ReportForm.code)))


def forms_of_unit(session: Session, unit_id: int) -> list[ReportForm]:
    """The forms this unit must submit."""
    return list(
        session.scalars(
            select(ReportForm)
            .join(ReportFormUnit, ReportFormUnit.form_id == ReportForm.id)
            .where(ReportFormUnit.unit_id == unit_id)
            .order_by(ReportForm.code)
        )
    )


def form_period(form: ReportForm, code: str) -> Period:
    """The period ``code`` of this form, or InvalidInput (malformed, or of another type)."""
    try:
        period = parse_period(code)
    except PeriodError as exc:
        raise InvalidInput(str(exc), code="invalid_period") from None
    if period.type != PeriodType(form.period_type):
        raise InvalidInput(
            f"{form.code} is a {form.period_type} form: period {period.code} is {period.type}.",
            code="wrong_period_type",
        )
    return period


def _assigned(form: ReportForm, unit: Unit) -> None:
    if unit.id not in {item.unit_id for item in form.units}:
        raise InvalidInput(
            f"{unit.name} ({unit.code}) does not report {form.code}.", code="unit_not_assigned"
        )


def find_submission(
    session: Session, form: ReportForm, unit: Unit, period: Period
) -> Submission | None:
    return session.scalar(
        select(Submission).where(
            Submission.form_id == form.id,
            Submission.unit_id == unit.id,
            Submission.period_code == period.code,
        )
    )


def find_approval(
    session: Session, form: ReportForm, unit: Unit, period: Period
) -> Approval | None:
    return session.scalar(
        select(Approval).where(
            Approval.form_id == form.id,
            Approval.unit_id == unit.id,
            Approval.period_code == period.code,
        )
    )


def entry_state(
    session: Session, form: ReportForm, unit: Unit, period: Period, now: datetime
) -> EntryState:
    """May values of this form, unit and period be changed now? Approval locks first; then the
    entry window (``expiry_days`` after the period ends) unless an exception is open."""
    approval = find_approval(session, form, unit, period)
    if approval is not None:
        return approved_state(form, period, approval, unit.name)
    exceptions = session.scalars(
        select(EntryException).where(
            EntryException.form_id == form.id,
            EntryException.period_code == period.code,
            or_(EntryException.unit_id.is_(None), EntryException.unit_id == unit.id),
        )
    ).all()
    return window_state(form, period, now, latest_exception(exceptions, unit.id))


def complete(
    session: Session, form: ReportForm, unit: Unit, period: Period, by: str, now: datetime
) -> Submission:
    """Mark the unit's form complete; on time if before the end of period end + timely_days
    (province time). Completing again keeps the first completion and its timeliness."""
    _assigned(form, unit)
    existing = find_submission(session, form, unit, period)
    if existing is not None:
        return existing
    state = entry_state(session, form, unit, period, now)
    if not state.open:
        raise Conflict(f"Cannot complete: {state.reason}", code=f"entry_{state.code}")
    submission = Submission(
        form_id=form.id,
        unit_id=unit.id,
        period_code=period.code,
        completed_at=now,
        completed_by=by,
        on_time=now < timely_deadline(form, period),
    )
    session.add(submission)
    session.flush()
    # Every completion, late or not: a rule that raised on report_form.overdue resolves here.
    publish(session, FORM_SUBMITTED, ReportFormEvent(
        form=form.code, form_name=form.name, unit_code=unit.code, unit_name=unit.name,
        period=period.code, period_label=period.label("vi"),
        deadline=timely_deadline(form, period), on_time=submission.on_time, by=by, at=now,
    ), unit_id=unit.id)  # fmt: skip
    return submission


def reopen(session: Session, form: ReportForm, unit: Unit, period: Period) -> bool:
    """Undo a completion (False: it was not complete). An approved report cannot reopen."""
    approval = find_approval(session, form, unit, period)
    if approval is not None:
        raise Conflict(
            approved_state(form, period, approval, unit.name).reason or "approved",
            code="approved",
        )
    submission = find_submission(session, form, unit, period)
    if submission is None:
        return False
    session.delete(submission)
    session.flush()
    return True


def approve(
    session: Session,
    principal: Principal,
    form: ReportForm,
    unit: Unit,
    period: Period,
    now: datetime,
    state: ApprovalState = ApprovalState.APPROVED,
) -> Approval:
    """The province approves a complete report: its values are locked until unapproved."""
    require(principal, Permission.APPROVE_REPORTS)
    if not form.approval_required:
        raise InvalidInput(f"{form.code} has no approval step.", code="no_approval_step")
    _assigned(form, unit)
    existing = find_approval(session, form, unit, period)
    if existing is not None:
        if existing.state != state.value:
            existing.state, existing.approved_by, existing.approved_at = (
                state.value,
                principal.username,
                now,
            )
        return existing
    if find_submission(session, form, unit, period) is None:
        raise Conflict(
            f"{unit.name} has not completed {form.code} for {period.code}: only a complete "
            "report can be approved.",
            code="not_complete",
        )
    approval = Approval(
        form_id=form.id,
        unit_id=unit.id,
        period_code=period.code,
        state=state.value,
        approved_by=principal.username,
        approved_at=now,
    )
    session.add(approval)
    session.flush()
    return approval


def unapprove(
    session: Session, principal: Principal, form: ReportForm, unit: Unit, period: Period
) -> bool:
    """Remove the approval (False: there was none); the values become editable again."""
    require(principal, Permission.APPROVE_REPORTS)
    approval = find_approval(session, form, unit, period)
    if approval is None:
        return False
    session.delete(approval)
    session.flush()
    return True


def grant_exception(
    session: Session,
    principal: Principal,
    form: ReportForm,
    unit: Unit | None,
    period: Period,
    open_until: datetime,
    reason: str,
    now: datetime,
) -> EntryException:
    """Reopen entry after the window closed, for one unit (or all when ``unit`` is None)."""
    require(principal, Permission.APPROVE_REPORTS)
    if unit is not None:
        _assigned(form, unit)
    if open_until <= now:
        raise InvalidInput("open_until must be in the future.", code="invalid_open_until")
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise InvalidInput("Give a reason of 1 to 500 characters.", code="invalid_reason")
    exception = EntryException(
        form_id=form.id,
        unit_id=unit.id if unit else None,
        period_code=period.code,
        open_until=open_until,
        reason=reason,
        granted_by=principal.username,
        granted_at=now,
    )
    session.add(exception)
    session.flush()
    return exception


@dataclass(frozen=True)
class FormStatus:
    """Where one unit's form stands for a period, for the entry page and the API."""

    entry: EntryState
    submission: Submission | None
    approval: Approval | None


def form_status(
    session: Session, form: ReportForm, unit: Unit, period: Period, now: datetime
) -> FormStatus:
    return FormStatus(
        entry=entry_state(session, form, unit, period, now),
        submission=find_submission(session, form, unit, period),
        approval=find_approval(session, form, unit, period),
    )
