"""When a form's values may still be changed: the deadline, the entry window, exceptions and
approval locks (issue 5).

The rules are pure functions of the form, the period and the clock, so the single-form check
(``reporting.service.entry_state``) and the bulk check of an import (:class:`Locks`, a few queries
per batch of thousands of values) give the same answer.

Which form governs a value? An element may sit in several forms. A value (element, unit, period)
is governed by every form that contains the element, is assigned to the unit and has the period's
type; it is locked if ANY of them is closed or approved for that unit and period. Taking the
strictest answer means an approved report can never change behind the approver's back through
another form that happens to share an element.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from dieuhanh.indicators.catalog.form_models import Approval, EntryException, ReportForm
from dieuhanh.indicators.catalog.periods import Period
from dieuhanh.indicators.values.form_index import FormIndex
from dieuhanh.indicators.values.hooks import OPEN, EntryState

# Vietnam has one time zone; legal deadlines ("before the 3rd") are in it whatever zone the
# server or the UI is configured to show.
PROVINCE_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` ends, province time (deadlines include their whole day)."""
    return datetime.combine(day + timedelta(days=1), time(0), PROVINCE_ZONE)


def timely_deadline(form: ReportForm, period: Period) -> datetime:
    """Completed before this instant = on time."""
    return end_of_day(period.end + timedelta(days=form.timely_days))


def entry_closes_at(form: ReportForm, period: Period) -> datetime | None:
    if form.expiry_days is None:
        return None
    return end_of_day(period.end + timedelta(days=form.expiry_days))


def local(moment: datetime) -> str:
    """A moment as the province reads it (dd/mm/yyyy hh:mm)."""
    return moment.astimezone(PROVINCE_ZONE).strftime("%d/%m/%Y %H:%M")


def last_day(exclusive_end: datetime) -> str:
    """The last day of a window that ends at ``exclusive_end`` (the next midnight)."""
    return (exclusive_end.astimezone(PROVINCE_ZONE) - timedelta(seconds=1)).strftime("%d/%m/%Y")


def approved_state(
    form: ReportForm, period: Period, approval: Approval, unit_name: str
) -> EntryState:
    return EntryState(
        open=False,
        code="approved",
        reason=(
            f"{form.code} of {unit_name} for {period.code} was {approval.state} by "
            f"{approval.approved_by} on {local(approval.approved_at)}: its values are locked. "
            "Ask the province to unapprove it first."
        ),
    )


def window_state(
    form: ReportForm, period: Period, now: datetime, exception_until: datetime | None
) -> EntryState:
    """Whether the entry window is open, ignoring approval."""
    starts = datetime.combine(period.start, time(0), PROVINCE_ZONE)
    if now < starts:
        return EntryState(
            open=False,
            code="not_started",
            reason=f"{form.code}: period {period.code} has not started yet (from "
            f"{period.start.strftime('%d/%m/%Y')}).",
        )
    closes = entry_closes_at(form, period)
    if closes is None or now < closes:
        return EntryState(open=True, closes_at=closes)
    if exception_until is not None and now < exception_until:
        return EntryState(open=True, closes_at=exception_until)
    return EntryState(
        open=False,
        code="expired",
        closes_at=closes,
        reason=f"{form.code}: entry for {period.code} closed at the end of {last_day(closes)} "
        f"({form.expiry_days} days after the period ended). Ask an administrator for an "
        "exception.",
    )


def latest_exception(exceptions: Iterable[EntryException], unit_id: int) -> datetime | None:
    """The furthest open_until of the exceptions for this unit or for all units."""
    ends = [e.open_until for e in exceptions if e.unit_id is None or e.unit_id == unit_id]
    return max(ends) if ends else None


class Locks:
    """Answers "may this value change now?" for many values at once (the value part's
    :class:`~dieuhanh.indicators.values.hooks.EntryGate`).

    Uses the import's form index; :meth:`prefetch` loads the approvals and exceptions of one
    batch's units and periods in two queries.
    """

    def __init__(
        self, session: Session, now: datetime, unit_names: dict[int, str], forms: FormIndex
    ) -> None:
        self.session = session
        self.now = now
        self.unit_names = unit_names
        self.forms_by_element = forms.forms_by_element
        self.form_units = forms.form_units
        self.approvals: dict[tuple[int, int, str], Approval] = {}
        self.exceptions: dict[tuple[int, str], list[EntryException]] = {}
        self.states: dict[tuple[int, int, str], EntryState] = {}
        # Each element's forms as plain tuples (id, period type, units, form): :meth:`check`
        # runs once per value, and an ORM attribute costs 0.3 µs to read.
        self.plain_forms: dict[int, list[tuple[int, str, frozenset[int], ReportForm]]] = {}
        # An import's batches name the same few units and periods again and again.
        self.fetched: set[tuple[int, str]] = set()
        self.fetched_periods: set[str] = set()

    def prefetch(self, pairs: set[tuple[int, str]]) -> None:
        """Load approvals and exceptions for these (unit id, period code) pairs."""
        pairs = pairs - self.fetched
        if not pairs or not self.forms_by_element:
            return
        self.fetched |= pairs
        periods = sorted({period for _, period in pairs} - self.fetched_periods)
        self.fetched_periods.update(periods)
        approvals = self.session.scalars(
            select(Approval).where(tuple_(Approval.unit_id, Approval.period_code).in_(pairs))
        )
        for approval in approvals:
            self.approvals[(approval.form_id, approval.unit_id, approval.period_code)] = approval
        if not periods:
            return
        exceptions = self.session.scalars(
            select(EntryException).where(EntryException.period_code.in_(periods))
        )
        for exception in exceptions:
            self.exceptions.setdefault((exception.form_id, exception.period_code), []).append(
                exception
            )

    def check(self, element_id: int, unit_id: int, period: Period) -> EntryState:
        forms = self.plain_forms.get(element_id)
        if forms is None:
            forms = self.plain_forms[element_id] = [
                (form.id, form.period_type, self.form_units[form.id], form)
                for form in self.forms_by_element.get(element_id, ())
            ]
        for form_id, period_type, units, form in forms:
            # A PeriodType is a StrEnum: equal to its text without .value.
            if period_type != period.type or unit_id not in units:
                continue
            key = (form_id, unit_id, period.code)
            state = self.states.get(key)
            if state is None:
                state = self._state(form, unit_id, period)
                self.states[key] = state
            if not state.open:
                return state
        return OPEN

    def _state(self, form: ReportForm, unit_id: int, period: Period) -> EntryState:
        approval = self.approvals.get((form.id, unit_id, period.code))
        if approval is not None:
            return approved_state(form, period, approval, self.unit_names.get(unit_id, "?"))
        until = latest_exception(self.exceptions.get((form.id, period.code), ()), unit_id)
        return window_state(form, period, self.now, until)
