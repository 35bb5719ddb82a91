"""Small builders for the figures tests of analytics, completeness, validation and outliers use.

Values are inserted as DataValue rows directly: these tests are about reading figures, and the
write path (indicators.values.save_values) has its own tests; one analytics test goes through it
to show that a saved value is visible in the next query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.indicators.catalog.form_models import (
    ReportForm,
    ReportFormElement,
    ReportFormUnit,
    Submission,
)
from dieuhanh.indicators.catalog.models import (
    Constant,
    DataElement,
    DataValue,
    Disaggregation,
    DisaggregationOption,
    Indicator,
)
from dieuhanh.indicators.catalog.periods import parse_period
from dieuhanh.units.models import Unit


def unit(session: Session, code: str) -> Unit:
    return session.scalars(select(Unit).where(Unit.code == code)).one()


def unit_code(session: Session, unit_id: int) -> str:
    found = session.get(Unit, unit_id)
    assert found is not None
    return found.code


def communes(session: Session, count: int, parent: str = "75") -> list[Unit]:
    """The first ``count`` communes/wards of the province in code order (25195, 25210, …: not
    the test accounts' Lộc Thạnh 25280 and Long Thành 26368)."""
    province = unit(session, parent)
    return list(
        session.scalars(
            select(Unit)
            .where(Unit.parent_id == province.id, Unit.type.in_(["commune", "ward"]))
            .order_by(Unit.code)
            .limit(count)
        )
    )


def element_by_code(session: Session, code: str) -> DataElement:
    return session.scalars(select(DataElement).where(DataElement.code == code)).one()


def form_by_code(session: Session, code: str) -> ReportForm:
    return session.scalars(select(ReportForm).where(ReportForm.code == code)).one()


def element(
    session: Session,
    code: str,
    *,
    aggregation: str = "sum",
    value_type: str = "number",
    options: Sequence[str] = (),
) -> DataElement:
    disaggregation = None
    if options:
        disaggregation = Disaggregation(
            code=f"{code}_DIS",
            name=f"Phân tổ {code}",
            options=[
                DisaggregationOption(code=option, name=option, sort_order=index)
                for index, option in enumerate(options)
            ],
        )
    created = DataElement(
        code=code,
        name=f"Chỉ tiêu {code}",
        value_type=value_type,
        aggregation_type=aggregation,
        domain="public_services",
        disaggregation=disaggregation,
    )
    session.add(created)
    session.flush()
    return created


def put(
    session: Session,
    data_element: DataElement,
    where: Unit,
    period: str,
    value: float | str,
    option: str = "",
) -> DataValue:
    parsed = parse_period(period)
    numeric = None if isinstance(value, str) else float(value)
    row = DataValue(
        element_id=data_element.id,
        unit_id=where.id,
        period_code=parsed.code,
        period_type=parsed.type.value,
        period_start=parsed.start,
        period_end=parsed.end,
        option=option,
        value=str(value),
        numeric=numeric,
        source="api",
        stored_by="test",
    )
    session.add(row)
    return row


def indicator(
    session: Session,
    code: str,
    numerator: str,
    denominator: str = "1",
    *,
    factor: float = 1.0,
    decimals: int = 1,
    legend: list[dict[str, object]] | None = None,
    target: float | None = None,
) -> Indicator:
    created = Indicator(
        code=code,
        name=f"Chỉ số {code}",
        numerator=numerator,
        denominator=denominator,
        factor=factor,
        decimals=decimals,
        legend=legend,
        target=target,
        domain="public_services",
    )
    session.add(created)
    session.flush()
    return created


def constant(session: Session, code: str, value: float) -> Constant:
    created = Constant(code=code, name=code, value=value)
    session.add(created)
    session.flush()
    return created


def form(
    session: Session,
    code: str,
    elements: Sequence[DataElement],
    units: Sequence[Unit],
    *,
    period_type: str = "monthly",
    timely_days: int = 2,
    hide_unapproved: bool = False,
) -> ReportForm:
    created = ReportForm(
        code=code,
        name=f"Biểu {code}",
        period_type=period_type,
        timely_days=timely_days,
        approval_required=hide_unapproved,
        hide_unapproved=hide_unapproved,
        elements=[
            ReportFormElement(element_id=e.id, sort_order=index) for index, e in enumerate(elements)
        ],
        units=[ReportFormUnit(unit_id=u.id) for u in units],
    )
    session.add(created)
    session.flush()
    return created


def submit(
    session: Session, report: ReportForm, where: Unit, period: str, *, on_time: bool
) -> Submission:
    row = Submission(
        form_id=report.id,
        unit_id=where.id,
        period_code=period,
        completed_at=datetime(2026, 2, 1, tzinfo=UTC),
        completed_by="test",
        on_time=on_time,
    )
    session.add(row)
    return row
