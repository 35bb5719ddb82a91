"""The reporting part's answers to the value part below it (:mod:`..values.hooks`): the locks of
a value write, completing a form named by an imported dataValueSet, and reporting rates."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from dieuhanh.core.access import Principal, authorize
from dieuhanh.core.errors import InvalidInput
from dieuhanh.indicators.catalog.form_models import ReportForm
from dieuhanh.indicators.reporting import completeness, service
from dieuhanh.indicators.reporting.locks import Locks
from dieuhanh.indicators.values.form_index import FormIndex
from dieuhanh.indicators.values.hooks import EntryGate, Reporting
from dieuhanh.indicators.values.rollup import Cell
from dieuhanh.units.service import find_unit


class FormReporting:
    def entry_gate(
        self, session: Session, now: datetime, unit_names: dict[int, str], forms: FormIndex
    ) -> EntryGate:
        return Locks(session, now, unit_names, forms)

    def complete(
        self,
        session: Session,
        principal: Principal | None,
        form: ReportForm,
        unit_code: str,
        period_code: str,
        moment: datetime,
    ) -> None:
        unit = find_unit(session, unit_code)
        if unit is None:
            raise InvalidInput(f"unknown unit '{unit_code}'")
        if principal is not None:
            authorize(principal, "write", unit.id, unit.name)
        period = service.form_period(form, period_code)
        by = principal.username if principal else "system"
        service.complete(session, form, unit, period, by, moment)

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
        return completeness.reporting_cells(session, form, unit_ids, first, last, now=now)

    def metric_value(
        self, metric: str, expected: float, actual: float, on_time: float
    ) -> float | None:
        return completeness.metric_value(metric, expected, actual, on_time)


FORM_REPORTING: Reporting = FormReporting()
