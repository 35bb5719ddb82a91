"""The demo's two years of indicator figures (issue 5, part 10): filled once, plausible, with late,
missing and approved reports and a few outliers, and the same every time."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators import demo as indicator_demo
from dieuhanh.indicators.analytics import analytics
from dieuhanh.indicators.catalog.form_models import Approval, ReportForm, Submission
from dieuhanh.indicators.catalog.models import DataElement, DataValue, DataValueChange
from dieuhanh.indicators.catalog.periods import PeriodType, parse_period, periods_between
from dieuhanh.units.models import Unit

# Mid-April 2026: the demo covers April 2024 – March 2026, with Tết on 29 January 2025 and on
# 17 February 2026; the communes exist since July 2025.
TODAY = date(2026, 4, 15)
MONTHS = periods_between(PeriodType.MONTHLY, date(2024, 4, 1), date(2026, 3, 31))


def counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (DataValue, DataValueChange, Submission, Approval)
    )


def form_id(session: Session, code: str) -> int:
    return session.scalars(select(ReportForm.id).where(ReportForm.code == code)).one()


def province_values(
    session: Session, codes: list[str], periods: list[str]
) -> dict[tuple[str, str], float | None]:
    rows = analytics.query(
        session, indicators=codes, units=["75"], periods=[parse_period(p) for p in periods]
    )
    return {(row.indicator, row.period): row.value for row in rows}


def test_fills_two_years_once(runtime: Runtime) -> None:
    assert indicator_demo.ensure_values(runtime, today=TODAY)
    with runtime.sessions() as session:
        filled = counts(session)
        values, changes, submissions, approvals = filled
        assert 30_000 < values < 45_000
        assert changes == values  # every value has its history: created by the demo import
        assert 1_200 < submissions < 1_400 and 500 < approvals < submissions
        check_reports(session)
        check_gaps_and_outliers(session)
        check_province_figures(session)
    assert not indicator_demo.ensure_values(runtime, today=TODAY)
    with runtime.sessions() as session:
        assert counts(session) == filled


def check_reports(session: Session) -> None:
    commune_form = form_id(session, "COMMUNE_MONTHLY")
    rows = session.execute(
        select(Submission.period_code, Submission.on_time, Approval.id)
        .outerjoin(
            Approval,
            (Approval.form_id == Submission.form_id)
            & (Approval.unit_id == Submission.unit_id)
            & (Approval.period_code == Submission.period_code),
        )
        .where(Submission.form_id == commune_form)
    ).all()
    periods = {period for period, _, _ in rows}
    # No report was due from a commune before it existed (1 July 2025).
    assert min(periods) == "202507" and max(periods) == "202603"
    late = [row for row in rows if not row.on_time]
    assert 0.05 * len(rows) < len(late) < 0.3 * len(rows)
    older = [row for row in rows if row.period_code <= "202512"]
    assert sum(row.id is not None for row in older) > 0.85 * len(older)
    assert not any(row.id for row in rows if row.period_code == "202603")
    # Departments and the Department of Finance report all 24 months; some departments late.
    for code in ("DEPARTMENT_MONTHLY", "NATIONAL_MONTHLY"):
        reported = session.scalars(
            select(Submission.period_code).where(Submission.form_id == form_id(session, code))
        ).all()
        # The province's own report starts in January, for whole year-to-date figures.
        assert min(reported) == ("202401" if code == "NATIONAL_MONTHLY" else "202404")


def check_gaps_and_outliers(session: Session) -> None:
    received = session.scalars(
        select(DataElement.id).where(DataElement.code == "DOSSIERS_RECEIVED")
    ).one()
    communes = select(Unit.id).where(Unit.type.in_(["commune", "ward"]), Unit.parent.has(code="75"))
    reported = session.execute(
        select(DataValue.period_code, DataValue.unit_id, DataValue.option, DataValue.numeric).where(
            DataValue.element_id == received, DataValue.unit_id.in_(communes)
        )
    ).all()
    per_month = {p.code: {r.unit_id for r in reported if r.period_code == p.code} for p in MONTHS}
    gaps = [95 - len(per_month[p.code]) for p in MONTHS]
    assert 0 < sum(gaps[12:]) < sum(gaps[:12])  # missing reports, more of them long ago
    # A few values ten times the unit's usual figure, in the last months.
    history: dict[tuple[int, str], list[float]] = {}
    for row in reported:
        history.setdefault((row.unit_id, row.option), []).append(row.numeric or 0.0)
    wild = [
        (unit, option)
        for (unit, option), numbers in history.items()
        if max(numbers) > 5 * statistics.median(numbers)
    ]
    assert 1 <= len(wild) <= 15


def check_province_figures(session: Session) -> None:
    codes = [
        "OVERDUE_DOSSIER_RATE", "ONLINE_DOSSIER_RATE", "DIGITAL_SIGNATURE_RATE",
        "BUDGET_REVENUE_VS_PLAN", "NAT_PUBINV_RATE", "COMMUNE_REPORTING_RATE",
    ]  # fmt: skip
    months = [p.code for p in MONTHS]
    found = province_values(session, codes, months)
    for month in months:
        assert 0.3 < (found[("OVERDUE_DOSSIER_RATE", month)] or 0) < 5
        assert 60 < (found[("DIGITAL_SIGNATURE_RATE", month)] or 0) <= 100
    online = [found[("ONLINE_DOSSIER_RATE", month)] or 0 for month in ("202404", "202603")]
    assert online[1] > online[0] + 15
    # Year to date against the year's plan: small in January, close to the plan in December.
    assert (found[("BUDGET_REVENUE_VS_PLAN", "202501")] or 0) < 15
    assert 85 < (found[("BUDGET_REVENUE_VS_PLAN", "202512")] or 0) < 115
    disbursed = [found[("NAT_PUBINV_RATE", month)] or 0 for month in ("202506", "202512")]
    assert disbursed[0] < 45 < disbursed[1]
    for month in ("202509", "202512", "202603"):
        assert 85 <= (found[("COMMUNE_REPORTING_RATE", month)] or 0) <= 100
    received = analytics.element_values(
        session,
        elements=["DOSSIERS_RECEIVED"],
        units=["75"],
        periods=[parse_period(p) for p in ("202601", "202602", "202603")],
    )
    by_month = {row.period: row.value for row in received}
    assert by_month["202602"] < 0.8 * by_month["202603"]  # Tết, 17 February 2026


def test_same_figures_every_time(sqlite_runtime: Runtime) -> None:
    now = datetime(2026, 4, 15, 3, tzinfo=UTC)
    with sqlite_runtime.sessions() as session:
        forms = {f.code: f for f in session.scalars(select(ReportForm))}
        months = indicator_demo.months_before(TODAY, now)
        first = indicator_demo.build_plan(session, forms, months, now)
        second = indicator_demo.build_plan(session, forms, months, now)
    assert first.rows == second.rows
    assert first.submissions == second.submissions
    assert first.outliers == second.outliers
