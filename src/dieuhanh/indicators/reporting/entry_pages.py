"""Pages of report forms: data entry for one unit and period, and the completeness scorecard.

The entry page is rendered with the form's layout, the stored values and where the report stands;
everything after that goes through the API (``static/js/data-entry.js``): each value is saved as
it is typed with ``PUT /api/v1/dataValues``, validation is read back after each save, and
completing or approving call the form's completion and approval routes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.access import Permission, Principal, authorize
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.http.deps import Db, get_runtime
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.web.i18n import Translator
from dieuhanh.core.web.shell import NavItem, PagePrincipal, language_of, render
from dieuhanh.indicators.catalog.form_models import ReportForm
from dieuhanh.indicators.catalog.models import DataElement, DataValue, ValueType, in_periods
from dieuhanh.indicators.catalog.periods import Period, PeriodType, period_of
from dieuhanh.indicators.catalog.valuetypes import INTEGERS
from dieuhanh.indicators.reporting import service
from dieuhanh.indicators.reporting.locks import last_day, local
from dieuhanh.indicators.reporting.service import FormStatus
from dieuhanh.units.models import Unit
from dieuhanh.units.service import get_unit

router = APIRouter(include_in_schema=False)
NAV = [
    NavItem("/reporting/entry", "nav.data_entry", order=41),
    NavItem("/reporting/completeness", "nav.completeness", order=42),
]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

# How many recent periods the entry page offers, per period type.
RECENT = {
    PeriodType.DAILY: 14,
    PeriodType.WEEKLY: 8,
    PeriodType.MONTHLY: 12,
    PeriodType.QUARTERLY: 6,
    PeriodType.SIXMONTHLY: 4,
    PeriodType.YEARLY: 4,
}
# The ranges the scorecard offers, per period type (DHIS2 relative periods; the first is default).
RANGES = {
    PeriodType.DAILY: ["LAST_14_DAYS", "LAST_30_DAYS", "LAST_7_DAYS"],
    PeriodType.WEEKLY: ["LAST_12_WEEKS", "LAST_4_WEEKS", "LAST_52_WEEKS"],
    PeriodType.MONTHLY: ["LAST_12_MONTHS", "LAST_6_MONTHS", "MONTHS_THIS_YEAR", "MONTHS_LAST_YEAR"],
    PeriodType.QUARTERLY: ["LAST_4_QUARTERS", "QUARTERS_THIS_YEAR", "QUARTERS_LAST_YEAR"],
    PeriodType.SIXMONTHLY: ["LAST_2_SIXMONTHS"],
    PeriodType.YEARLY: ["LAST_5_YEARS", "LAST_10_YEARS"],
}
NUMERIC = {ValueType.NUMBER, ValueType.PERCENTAGE, *INTEGERS}


# --- the form's layout -------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    code: str  # the option code; "" for an element without disaggregation
    name: str


@dataclass(frozen=True)
class Row:
    code: str
    name: str
    value_type: str
    unit_of_measure: str | None
    description: str | None

    @property
    def numeric(self) -> bool:
        return self.value_type in NUMERIC


@dataclass
class Block:
    """Consecutive rows sharing one disaggregation: one table, its options as columns."""

    disaggregation: str | None
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)

    @property
    def totals(self) -> bool:
        return len(self.columns) > 1 and any(row.numeric for row in self.rows)


@dataclass
class Section:
    name: str | None
    blocks: list[Block] = field(default_factory=list)


def layout(form: ReportForm) -> list[Section]:
    """Sections in order of first appearance; in each, one block per disaggregation, so an
    element's options line up under the same column headings (DHIS2's section forms)."""
    sections: dict[str | None, Section] = {}
    for item in sorted(form.elements, key=lambda e: e.sort_order):
        element = item.element
        section = sections.setdefault(item.section, Section(item.section))
        block = _block_for(section, element)
        block.rows.append(
            Row(
                code=element.code,
                name=element.name,
                value_type=element.value_type,
                unit_of_measure=element.unit_of_measure,
                description=element.description,
            )
        )
    return list(sections.values())


def _block_for(section: Section, element: DataElement) -> Block:
    disaggregation = element.disaggregation
    code = disaggregation.code if disaggregation else None
    for block in section.blocks:
        if block.disaggregation == code:
            return block
    columns = (
        [Column(o.code, o.name) for o in disaggregation.options]
        if disaggregation
        else [Column("", "")]
    )
    block = Block(code, columns)
    section.blocks.append(block)
    return block


def stored_values(session: Session, form: ReportForm, unit: Unit, period: Period) -> dict[str, str]:
    """The unit's stored values of the form's elements, keyed ``ELEMENT.OPTION``."""
    codes = {item.element_id: item.element.code for item in form.elements}
    rows = session.execute(
        select(DataValue.element_id, DataValue.option, DataValue.value).where(
            DataValue.element_id.in_(list(codes)),
            in_periods([period]),
            DataValue.unit_id == unit.id,
        )
    )
    return {f"{codes[element_id]}.{option}": value for element_id, option, value in rows}


# --- which form, unit and period ---------------------------------------------------------------


def forms_for(session: Session, principal: Principal) -> list[ReportForm]:
    """Every form for province-wide readers; a unit's own forms for everyone else."""
    if principal.read_scope.is_everything:
        return service.list_forms(session)
    return service.forms_of_unit(session, principal.unit_id)


def units_for(session: Session, principal: Principal, form: ReportForm) -> list[Unit]:
    """The units that report this form and that this person may see, by name."""
    assigned = [item.unit_id for item in form.units]
    scope = principal.read_scope
    units = session.scalars(select(Unit).where(Unit.id.in_(assigned)).order_by(Unit.name_key))
    return [unit for unit in units if scope.allows(unit.id)]


def pick_form(session: Session, forms: list[ReportForm], code: str | None) -> ReportForm:
    if not code:
        return forms[0]
    for form in forms:
        if form.code == code:
            return form
    found = service.get_form(session, code)  # NotFound for an unknown code
    raise InvalidInput(f"Your unit does not report {found.code}.", code="form_not_assigned")


def pick_unit(
    session: Session, principal: Principal, units: list[Unit], code: str | None, form: ReportForm
) -> tuple[Unit, Unit | None]:
    """The unit asked for, else one's own, else the first; and the unit asked for when it does
    not report this form (kept from another form: the page says so and shows another)."""
    asked = None
    if code:
        asked = get_unit(session, code)
        authorize(principal, "read", asked.id, asked.name)
        if asked.id in {u.id for u in units}:
            return asked, None
    own = [unit for unit in units if unit.id == principal.unit_id]
    if not (own or units):
        raise InvalidInput(f"No unit you may see reports {form.code}.", code="no_unit")
    return (own or units)[0], asked


def default_period(form: ReportForm, today: date) -> Period:
    """The period most likely being reported now: the last one that has ended."""
    return period_of(PeriodType(form.period_type), today).previous()


def pick_period(form: ReportForm, code: str | None, today: date) -> tuple[Period, bool]:
    """The period asked for (True), or the default (False) when none or one of another type
    (kept from the form chosen before) was asked for."""
    if code:
        try:
            return service.form_period(form, code), True
        except InvalidInput:
            pass
    return default_period(form, today), False


def open_default(
    session: Session, form: ReportForm, unit: Unit, period: Period, now: datetime
) -> Period:
    """The default period, or the current one when the default's entry window has closed and
    the current one's is open (a commune should land where it can type)."""
    if service.entry_state(session, form, unit, period, now).open:
        return period
    current = period.next()
    return current if service.entry_state(session, form, unit, current, now).open else period


def recent_periods(form: ReportForm, today: date, chosen: Period) -> list[Period]:
    """The last periods of the form's type up to the current one, newest first, with the chosen
    one included even when it is older."""
    current = period_of(PeriodType(form.period_type), today)
    periods = [current.offset(-n) for n in range(RECENT[current.type])]
    if chosen not in periods:
        periods.append(chosen)
    return sorted(periods, reverse=True)


def period_state(status: FormStatus) -> str:
    """open, locked, submitted or approved: what the period list shows beside each period."""
    if status.approval is not None:
        return "approved"
    if status.submission is not None:
        return "submitted"
    return "open" if status.entry.open else "locked"


def lock_message(t: Translator, status: FormStatus, period: Period) -> str | None:
    """Why the values cannot be changed, in the reader's language (None: they can)."""
    entry, approval = status.entry, status.approval
    if entry.open:
        return None
    if approval is not None:
        return t("entry.locked_approved", by=approval.approved_by, at=local(approval.approved_at))
    if entry.code == "not_started":
        return t("entry.not_started", date=period.start.strftime("%d/%m/%Y"))
    if entry.closes_at is not None:
        return t("entry.locked_expired", date=last_day(entry.closes_at))
    return entry.reason


def status_json(status: FormStatus) -> dict[str, Any]:
    submission, approval = status.submission, status.approval
    return {
        "complete": submission is not None,
        "completedAt": local(submission.completed_at) if submission else None,
        "completedBy": submission.completed_by if submission else None,
        "onTime": submission.on_time if submission else None,
        "approved": approval is not None,
        "approvedBy": approval.approved_by if approval else None,
        "approvedAt": local(approval.approved_at) if approval else None,
        "entryOpen": status.entry.open,
        "closesOn": last_day(status.entry.closes_at) if status.entry.closes_at else None,
    }


# --- pages -------------------------------------------------------------------------------------


@router.get("/reporting/entry", response_class=HTMLResponse)
def entry_page(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    runtime: RuntimeDep,
    form: str | None = None,
    unit: str | None = None,
    period: str | None = None,
) -> Response:
    forms = forms_for(db, principal)
    if not forms:
        return render(request, "reporting/entry.html", principal, forms=[], form=None)
    chosen = pick_form(db, forms, form)
    units = units_for(db, principal, chosen)
    target, not_reporting = pick_unit(db, principal, units, unit, chosen)
    today = runtime.today()
    wanted, asked = pick_period(chosen, period, today)
    now = utcnow()
    if not asked:
        wanted = open_default(db, chosen, target, wanted, now)
    status = service.form_status(db, chosen, target, wanted, now)
    periods = [
        (
            p,
            period_state(
                status if p == wanted else service.form_status(db, chosen, target, p, now)
            ),
        )
        for p in recent_periods(chosen, today, wanted)
    ]
    t = Translator(language_of(request, principal))
    may_write = principal.write_scope.allows(target.id)
    config = {
        "form": chosen.code,
        "unit": target.code,
        "period": wanted.code,
        "canWrite": may_write and status.entry.open,
        "mayWrite": may_write,
        "canApprove": principal.can(Permission.APPROVE_REPORTS) and chosen.approval_required,
        "status": status_json(status),
    }
    return render(
        request,
        "reporting/entry.html",
        principal,
        forms=forms,
        form=chosen,
        units=units,
        unit=target,
        unit_fixed=len(units) == 1 and not principal.read_scope.is_everything,
        period=wanted,
        periods=periods,
        state=period_state(status),
        status=status,
        sections=layout(chosen),
        values=stored_values(db, chosen, target, wanted),
        lock_message=lock_message(t, status, wanted),
        read_only_scope=not may_write,
        not_reporting=not_reporting,
        config=config,
    )


@router.get("/reporting/completeness", response_class=HTMLResponse)
def completeness_page(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    runtime: RuntimeDep,
    form: str | None = None,
    period: str | None = None,
) -> Response:
    forms = forms_for(db, principal)
    if not forms:
        return render(request, "reporting/completeness.html", principal, forms=[], form=None)
    chosen = pick_form(db, forms, form)
    ranges = RANGES[PeriodType(chosen.period_type)]
    wanted = period if period in ranges else ranges[0]
    config = {
        "form": chosen.code,
        "period": wanted,
        "periodType": chosen.period_type,
        "unit": None if principal.read_scope.is_everything else principal.unit_code,
    }
    return render(
        request,
        "reporting/completeness.html",
        principal,
        forms=forms,
        form=chosen,
        ranges=ranges,
        range=wanted,
        config=config,
    )
