"""What the value part asks the reporting part above it, as protocols the reporting part registers.

Three questions cross the layers upwards: a value write asks whether the value is locked (a
deadline passed, the report approved), a dataValueSet with a completeDate asks to complete the
form, and an indicator naming R{FORM.REPORTING_RATE} asks for the form's reporting counts. The
value part cannot import reporting (reporting is built on it), so it declares these protocols and
the reporting part registers an implementation on the runtime's session factory (every session
it makes carries it in ``session.info``). A session without one gets :data:`NO_REPORTING`: no
value is locked, completion is refused, reporting rates are missing: still correct values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from dieuhanh.core.access import Principal
from dieuhanh.core.errors import InvalidInput
from dieuhanh.indicators.catalog.form_models import ReportForm
from dieuhanh.indicators.catalog.periods import Period
from dieuhanh.indicators.values.form_index import FormIndex
from dieuhanh.indicators.values.rollup import Cell

_KEY = "dieuhanh.indicators.reporting"


@dataclass(frozen=True)
class EntryState:
    """May a value change now? ``code``: approved, expired, not_started when closed."""

    open: bool
    reason: str | None = None
    code: str | None = None
    closes_at: datetime | None = None


OPEN = EntryState(open=True)


class EntryGate(Protocol):
    """Answers "may this value change now?" for the values of one import."""

    def prefetch(self, pairs: set[tuple[int, str]]) -> None:
        """Load what :meth:`check` needs for these (unit id, period code) pairs at once."""

    def check(self, element_id: int, unit_id: int, period: Period) -> EntryState: ...


class Reporting(Protocol):
    """The reporting part, as the value part sees it."""

    def entry_gate(
        self, session: Session, now: datetime, unit_names: dict[int, str], forms: FormIndex
    ) -> EntryGate:
        """A gate for one import at ``now`` (unit names word the reasons)."""

    def complete(
        self,
        session: Session,
        principal: Principal | None,
        form: ReportForm,
        unit_code: str,
        period_code: str,
        moment: datetime,
    ) -> None:
        """Mark the form complete for a unit and period; a DieuhanhError says why not."""

    def reporting_cells(
        self,
        session: Session,
        form: ReportForm,
        unit_ids: frozenset[int],
        first: date,
        last: date,
        *,
        now: datetime,
    ) -> dict[str, dict[Cell, float]]:
        """Counts named expected, actual and on_time per (unit, form period) (they add up)."""

    def metric_value(
        self, metric: str, expected: float, actual: float, on_time: float
    ) -> float | None:
        """One R{FORM.METRIC} figure from rolled-up counts."""


class _NoGate:
    def prefetch(self, pairs: set[tuple[int, str]]) -> None:
        return None

    def check(self, element_id: int, unit_id: int, period: Period) -> EntryState:
        return OPEN


class _NoReporting:
    """Without a reporting part nothing is locked and no form has reports."""

    def entry_gate(
        self, session: Session, now: datetime, unit_names: dict[int, str], forms: FormIndex
    ) -> EntryGate:
        return _NoGate()

    def complete(
        self,
        session: Session,
        principal: Principal | None,
        form: ReportForm,
        unit_code: str,
        period_code: str,
        moment: datetime,
    ) -> None:
        raise InvalidInput("completeDate: report forms are not tracked here", code="no_reporting")

    def reporting_cells(
        self,
        session: Session,
        form: ReportForm,
        unit_ids: frozenset[int],
        first: date,
        last: date,
        *,
        now: datetime,
    ) -> dict[str, dict[Cell, float]]:
        return {"expected": {}, "actual": {}, "on_time": {}}

    def metric_value(
        self, metric: str, expected: float, actual: float, on_time: float
    ) -> float | None:
        return None


NO_REPORTING: Reporting = _NoReporting()


def register(sessions: sessionmaker[Session], reporting: Reporting) -> None:
    """Every session ``sessions`` makes from now on carries ``reporting``."""
    info = dict(sessions.kw.get("info") or {})
    info[_KEY] = reporting
    sessions.configure(info=info)


def reporting_of(session: Session) -> Reporting:
    found = session.info.get(_KEY)
    return found if found is not None else NO_REPORTING
