"""Citizen report figures: per unit and category, received / on time / overdue / satisfaction
(``GET /api/v1/citizen/statistics``), and the shipped 1022 data elements computed from the
reports and stored through the one write path, so dashboards and alerts see them, always
current (the ``citizen.statistics`` job, and after every change a minute later at most).

- ``REPORTS_1022``: reports received in the month that must be handled (not refused, not a
  duplicate), per unit they are with;
- ``REPORTS_1022_ON_TIME``: of those, the ones resolved by their deadline.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.citizen.models import CitizenReport, ReportCategory, Status
from dieuhanh.core.config import Settings
from dieuhanh.core.db.base import utcnow
from dieuhanh.indicators.catalog.models import DataElement, DataValue, Source, in_periods
from dieuhanh.indicators.catalog.periods import Period, PeriodType, period_of
from dieuhanh.indicators.values.save import ImportSummary, ValueRow, save_values
from dieuhanh.units.models import Unit

RECEIVED, ON_TIME = "REPORTS_1022", "REPORTS_1022_ON_TIME"
NOT_COUNTED = frozenset({Status.REFUSED, Status.DUPLICATE})


@dataclass
class Figures:
    received: int = 0
    on_time: int = 0
    late: int = 0  # resolved after the deadline, or still open past it
    open: int = 0
    ratings: int = 0
    rating_sum: int = 0

    @property
    def satisfaction(self) -> float | None:
        return round(self.rating_sum / self.ratings, 2) if self.ratings else None


def figures(
    session: Session, settings: Settings, period: Period, now: datetime | None = None
) -> dict[tuple[str, str], Figures]:
    """(unit code, category code) → figures, for the reports received in ``period``."""
    now = now or utcnow()
    start = datetime.combine(period.start, datetime.min.time(), settings.zone)
    end = datetime.combine(period.end, datetime.max.time(), settings.zone)
    rows = session.execute(
        select(CitizenReport, Unit.code, ReportCategory.code)
        .join(Unit, Unit.id == CitizenReport.unit_id)
        .join(ReportCategory, ReportCategory.id == CitizenReport.category_id)
        .where(CitizenReport.received_at >= start, CitizenReport.received_at <= end)
    ).all()
    result: dict[tuple[str, str], Figures] = defaultdict(Figures)
    for report, unit_code, category_code in rows:
        if report.status in NOT_COUNTED:
            continue
        cell = result[(unit_code, category_code)]
        cell.received += 1
        finished = report.resolved_at or report.closed_at
        if finished is not None and finished <= report.due_at:
            cell.on_time += 1
        elif (finished or now) > report.due_at:
            cell.late += 1
        if finished is None:
            cell.open += 1
        if report.rating is not None:
            cell.ratings += 1
            cell.rating_sum += report.rating
    return dict(result)


def store_values(
    session: Session, settings: Settings, today: date, now: datetime | None = None
) -> ImportSummary:
    """The 1022 elements of this month and the last, through ``save_values`` (source connector,
    detail ``citizen``), for every unit with reports or with such values stored already (a unit
    whose reports were all transferred away gets 0). The caller commits."""
    this = period_of(PeriodType.MONTHLY, today)
    previous = period_of(PeriodType.MONTHLY, date.fromordinal(this.start.toordinal() - 1))
    rows: list[ValueRow] = []
    for period in (previous, this):
        per_unit: dict[str, Figures] = defaultdict(Figures)
        for unit_code in _stored_units(session, period):
            per_unit[unit_code] = Figures()
        for (unit_code, _), cell in figures(session, settings, period, now).items():
            per_unit[unit_code].received += cell.received
            per_unit[unit_code].on_time += cell.on_time
        for unit_code, cell in sorted(per_unit.items()):
            rows.append(ValueRow(RECEIVED, unit_code, period.code, str(cell.received)))
            rows.append(ValueRow(ON_TIME, unit_code, period.code, str(cell.on_time)))
    return save_values(session, None, rows, source=Source.CONNECTOR, source_detail="citizen")


def _stored_units(session: Session, period: Period) -> list[str]:
    return list(
        session.scalars(
            select(Unit.code)
            .join(DataValue, DataValue.unit_id == Unit.id)
            .join(DataElement, DataElement.id == DataValue.element_id)
            .where(DataElement.code.in_([RECEIVED, ON_TIME]), in_periods([period]))
            .distinct()
        )
    )
