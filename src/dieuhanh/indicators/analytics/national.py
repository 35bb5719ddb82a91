"""The monthly national report: the 8 socio-economic indicators the Government Office asks every
province for before the 3rd of the next month (Official Letter 7798/VPCP-KSTT), each with the
month's value, the same month last year and the year to date, in the Government's order.

Year to date is the indicator with every item read from January to the month (DHIS2's
``.yearToDate()`` applied to the whole formula): sums add up, indices (aggregation average)
average, plans (aggregation last) take the latest — what the statistics office calls "lũy kế"
and "bình quân".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.access import Scope
from dieuhanh.core.errors import InvalidInput
from dieuhanh.indicators.analytics.targets import resolve_targets
from dieuhanh.indicators.catalog.models import Indicator
from dieuhanh.indicators.catalog.periods import Period, PeriodType
from dieuhanh.indicators.catalog.valuetypes import format_number
from dieuhanh.indicators.values.cells import CellValues, Evaluator
from dieuhanh.indicators.values.plan import IndicatorDef, Plan, plan_indicators
from dieuhanh.indicators.values.rollup import load_tree

# (number in the Government's list, indicator code), in the order the report is read.
NATIONAL_REPORT = (
    ("1", "NAT_IIP"),
    ("2", "NAT_RETAIL"),
    ("3", "NAT_EXPORT"),
    ("4", "NAT_IMPORT"),
    ("5", "NAT_BUDGET_REVENUE"),
    ("6", "NAT_BUDGET_SPENDING"),
    ("7a", "NAT_PUBINV_DISBURSED"),
    ("7b", "NAT_PUBINV_RATE"),
    ("8", "NAT_CPI"),
)
YEAR_TO_DATE = (0, True)  # a Shift: no period offset, from January


@dataclass(frozen=True)
class NationalRow:
    number: str
    indicator: str
    name: str
    unit_of_measure: str | None
    value: float | None
    same_month_last_year: float | None
    year_to_date: float | None
    year_to_date_last_year: float | None


@dataclass(frozen=True)
class NationalReport:
    period: Period
    unit: str
    unit_name: str
    rows: list[NationalRow]


def national_monthly(
    session: Session, period: Period, province_code: str, scope: Scope, now: datetime
) -> NationalReport:
    if period.type is not PeriodType.MONTHLY:
        raise InvalidInput(
            f"The national report is monthly: give a month such as 202603, not {period.code}.",
            code="wrong_period_type",
        )
    present = set(session.scalars(select(Indicator.code)))
    wanted = [(number, code) for number, code in NATIONAL_REPORT if code in present]
    if not wanted:
        raise InvalidInput(
            "The national indicators (NAT_IIP, …) are not configured: run "
            "'dieuhanh indicators load'.",
            code="not_configured",
        )
    plan = plan_indicators(session, [code for _, code in wanted])
    _add_year_to_date(plan)
    (target,) = resolve_targets(
        session, units=[province_code], level=None, parent=None, scope=scope
    )
    last_year = period.same_period_last_year()
    values = CellValues.load(
        session, plan, load_tree(session, [target]), [period, last_year],
        approved_only=False, now=now,
    )  # fmt: skip
    evaluator = Evaluator(plan, values)
    rows = []
    for number, code in wanted:
        definition = plan.indicators[code]
        rows.append(
            NationalRow(
                number=number,
                indicator=code,
                name=definition.name,
                unit_of_measure=definition.row.unit_of_measure,
                value=_cell(evaluator, definition, target.id, period, False),
                same_month_last_year=_cell(evaluator, definition, target.id, last_year, False),
                year_to_date=_cell(evaluator, definition, target.id, period, True),
                year_to_date_last_year=_cell(evaluator, definition, target.id, last_year, True),
            )
        )
    return NationalReport(period, target.code, target.name, rows)


def _cell(
    evaluator: Evaluator, definition: IndicatorDef, unit_id: int, period: Period, ytd: bool
) -> float | None:
    shift = YEAR_TO_DATE if ytd else (0, False)
    value = evaluator.cell(definition, unit_id, period, shift)[2]
    return None if value is None else round(value, definition.decimals)


def _add_year_to_date(plan: Plan) -> None:
    """Every series is also read from January, so the year-to-date cells can be evaluated."""
    for shifts in (*plan.series.values(), *plan.form_shifts.values()):
        shifts.update({(offset, True) for offset, _ in list(shifts)})


CSV_HEADER = (
    "stt", "ma_chi_tieu", "chi_tieu", "don_vi_tinh", "thuc_hien_thang", "cung_ky_nam_truoc",
    "luy_ke_tu_dau_nam", "luy_ke_cung_ky_nam_truoc",
)  # fmt: skip


def as_csv(report: NationalReport) -> str:
    """Vietnamese column names, as the report is filed; empty where there is no figure."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in report.rows:
        writer.writerow(
            [
                row.number, row.indicator, row.name, row.unit_of_measure or "",
                *("" if v is None else format_number(v) for v in (
                    row.value, row.same_month_last_year, row.year_to_date,
                    row.year_to_date_last_year,
                )),
            ]
        )  # fmt: skip
    return buffer.getvalue()
