"""Two years of plausible monthly figures for ``dieuhanh demo`` (issue 5, part 10), so that every
indicator screen has something true to show: tiles, trends, completeness, approvals, outliers.

The shipped forms are filled for the 24 months before the current one: COMMUNE_MONTHLY by the
95 communes and wards, DEPARTMENT_MONTHLY by the departments, NATIONAL_MONTHLY and
BUDGET_PLAN_MONTHLY by the Department of Finance. Each unit has a character drawn once from a
seed (its size, how fast it moves online, how often it is late or silent), so the same database
comes out every time. Some reports arrive after the deadline, some never (more often long ago),
a few values are ten times what the unit usually reports (for the outlier review), and most
older months are approved.

The 95 communes exist since 1 July 2025 (the merger): their earlier months are the history
restated on the new boundaries, as the province did after the merger. Those values are stored,
but no report was due from a commune before it existed, so they carry no submission.

Values go through the one write path (:func:`dieuhanh.indicators.values.save.save_values`, source
"import", detail "demo"), one call per month dated when that month's reports were entered, so
history and entry windows are those of real entry. Submissions and approvals are inserted in
bulk. Everything is one transaction, remembered in app_meta: a second run adds nothing.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from dieuhanh.core.db.actor import Actor, set_actor
from dieuhanh.core.db.meta import get_meta, set_meta
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.catalog.catalog import Catalog
from dieuhanh.indicators.catalog.form_models import Approval, ReportForm, Submission
from dieuhanh.indicators.catalog.periods import Period, PeriodType, period_of
from dieuhanh.indicators.reporting.locks import PROVINCE_ZONE, timely_deadline
from dieuhanh.indicators.values.save import Strategy, ValueRow, save_values
from dieuhanh.units.models import Unit

log = logging.getLogger(__name__)
META_KEY = "demo.indicators"
ACTOR = Actor(name="system:demo", via="system")
SEED = "dieuhanh-demo-2026"
MONTHS = 24
ENTRY_DAYS = 14  # a month's values are entered by then: inside every shipped form's window
APPROVER = "vanhanh"  # the demo's IOC operator account approves the communes' reports
# A few values ten times the unit's usual, in the last four months: the outlier review's work.
OUTLIER_CHANCE = 0.015
OUTLIER_ITEMS = (("DOSSIERS_RECEIVED", "IN_PERSON"), ("DOCS_INCOMING", ""))
# Lunar New Year: the month holding it loses about a third of its public-service work.
TET = {
    2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29),
    2026: date(2026, 2, 17), 2027: date(2027, 2, 6), 2028: date(2028, 1, 26),
    2029: date(2029, 2, 13), 2030: date(2030, 2, 3),
}  # fmt: skip
# Share of the year's public investment disbursed in each month: slow start, year-end rush.
DISBURSEMENT = (0.02, 0.03, 0.05, 0.06, 0.07, 0.08, 0.08, 0.09, 0.09, 0.1, 0.13, 0.2)
# Budget revenue and spending across the year (mean 1): the year-end settlement peak.
REVENUE_SEASON = (1.1, 0.8, 0.9, 1.0, 0.95, 0.95, 1.0, 0.95, 0.95, 1.0, 1.05, 1.35)
SPENDING_SEASON = (0.7, 0.75, 0.85, 0.9, 0.9, 1.0, 0.95, 0.95, 1.0, 1.05, 1.2, 1.75)

Figures = dict[tuple[str, str], float]  # (element code, option or "") → value


@dataclass(frozen=True)
class Profile:
    """A unit's character: what it usually reports and how it reports."""

    dossiers: float  # dossiers received a month, before season and trend
    online: tuple[float, float]  # online share two years ago, and now
    overdue: float  # its usual share of dossiers settled late
    documents: float  # incoming documents a month
    signed: tuple[float, float]  # digitally signed share of outgoing documents, then and now
    hotline: float  # 1022 citizen reports a month
    late: float  # chance that a month's report comes after the deadline
    silent: float  # chance of no report at all in a recent month


@dataclass(frozen=True)
class Month:
    period: Period
    index: int  # 0 = the oldest of the 24 (the province's own reports start before it)
    entered: datetime  # when this month's values were stored

    @property
    def progress(self) -> float:
        """0 two years ago, 1 last month: for figures that improve steadily."""
        return self.index / (MONTHS - 1)

    @property
    def age(self) -> int:
        return MONTHS - 1 - self.index


@dataclass
class Plan:
    """What the fill stores: rows per month, then submissions and approvals."""

    rows: dict[str, list[ValueRow]] = field(default_factory=dict)  # period code → rows
    submissions: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    missing: int = 0
    late: int = 0
    outliers: list[tuple[str, str, str, str]] = field(default_factory=list)  # unit, period, item


def ensure_values(runtime: Runtime, today: date | None = None) -> bool:
    """Fill the demo figures once; False when already done or the configuration is absent."""
    with runtime.sessions() as session:
        set_actor(session, ACTOR)
        if get_meta(session, META_KEY) is not None:
            return False
        plan = fill(session, today or runtime.today(), datetime.now(UTC))
        if plan is None:
            return False
        session.commit()
    values = sum(len(rows) for rows in plan.rows.values())
    log.info(
        "demo indicator figures: %d values, %d reports (%d late), %d missing, %d outliers",
        values,
        len(plan.submissions),
        plan.late,
        plan.missing,
        len(plan.outliers),
    )
    return True


def fill(session: Session, today: date, now: datetime) -> Plan | None:
    """Store the figures of the 24 months before ``today``'s; the caller commits."""
    forms = {
        form.code: form
        for form in session.scalars(select(ReportForm).where(ReportForm.code.in_(GENERATORS)))
    }
    if not forms:
        log.warning("demo indicator figures skipped: the shipped report forms are not loaded")
        return None
    months = months_before(today, now)
    plan = build_plan(session, forms, months, now)
    catalog = Catalog.load(session)
    for month in months:
        summary = save_values(
            session,
            None,
            plan.rows.get(month.period.code, []),
            source="import",
            source_detail="demo",
            strategy=Strategy.CREATE,  # values someone entered already are left alone
            now=month.entered,
            catalog=catalog,
        )
        if summary.conflicts:
            first = summary.conflicts[0]
            log.warning(
                "demo figures of %s: %d rows refused, e.g. %s: %s",
                month.period.code,
                len(summary.conflicts),
                first.object,
                first.message,
            )
    _insert_new(session, Submission, plan.submissions)
    _insert_new(session, Approval, plan.approvals)
    set_meta(session, META_KEY, f"{months[0].period.code}-{months[-1].period.code}")
    return plan


def months_before(today: date, now: datetime) -> list[Month]:
    """The 24 months before ``today``'s, preceded by those since January of the first one: the
    province's own reports start then, so that year-to-date figures (budget and disbursement
    against plan) are whole from the first month shown."""
    current = period_of(PeriodType.MONTHLY, today)
    january = current.offset(-MONTHS).start.month - 1
    return [_month(current.offset(n - MONTHS), n, now) for n in range(-january, MONTHS)]


def _month(period: Period, index: int, now: datetime) -> Month:
    entered = _local(period.end, timedelta(days=ENTRY_DAYS))
    return Month(period, index, min(entered, now))


def _local(day: date, after: timedelta) -> datetime:
    """``after`` past the start of ``day``, province time, as a UTC moment."""
    return (datetime.combine(day, time(0), PROVINCE_ZONE) + after).astimezone(UTC)


def build_plan(
    session: Session, forms: dict[str, ReportForm], months: list[Month], now: datetime
) -> Plan:
    plan = Plan()
    for code, form in sorted(forms.items()):
        elements = {item.element.code for item in form.elements}
        assigned = [item.unit_id for item in form.units]
        units = session.scalars(select(Unit).where(Unit.id.in_(assigned)).order_by(Unit.code))
        for unit in units:
            rng = random.Random(f"{SEED}:{code}:{unit.code}")
            profile = draw_profile(rng, unit.type)
            if code in RELIABLE:
                profile = replace(profile, silent=0.0, late=0.1)
            for month in months:
                if month.index < 0 and code not in RELIABLE:
                    continue
                figures = GENERATORS[code](rng, profile, month)
                report = Report(form, unit, profile, month, figures)
                _plan_report(plan, report, elements, rng, now)
    return plan


@dataclass(frozen=True)
class Report:
    form: ReportForm
    unit: Unit
    profile: Profile
    month: Month
    figures: Figures


def _plan_report(
    plan: Plan, report: Report, elements: set[str], rng: random.Random, now: datetime
) -> None:
    month, unit = report.month, report.unit
    # Older months have more gaps: records lost in the change of systems and the merger.
    if rng.random() < report.profile.silent * (1 + 2.5 * month.age / MONTHS):
        plan.missing += 1
        return
    figures = dict(report.figures)
    outlier = month.age < 4 and rng.random() < OUTLIER_CHANCE
    if outlier and (chosen := [key for key in OUTLIER_ITEMS if key in figures]):
        key = rng.choice(chosen)
        figures[key] *= 10
        plan.outliers.append((unit.code, month.period.code, *key))
    code = month.period.code
    plan.rows.setdefault(code, []).extend(
        ValueRow(element, unit.code, code, _text(value), option or None)
        for (element, option), value in figures.items()
        if element in elements
    )
    if unit.valid_from is not None and unit.valid_from > month.period.end:
        return  # history restated on the new boundaries: no report was due from the unit
    _plan_submission(plan, report, rng, now, approvable=not outlier)


def _plan_submission(
    plan: Plan, report: Report, rng: random.Random, now: datetime, approvable: bool
) -> None:
    form, period = report.form, report.month.period
    late = rng.random() < report.profile.late
    # On time: from the morning of the month's last day to its deadline (end of day 2 after);
    # late: from day 3 to the end of entry.
    hours = rng.uniform(80, ENTRY_DAYS * 24 - 4) if late else rng.uniform(8, 70)
    completed = min(_local(period.end, timedelta(hours=hours)), now)
    on_time = completed < timely_deadline(form, period)
    plan.late += not on_time
    key = {"form_id": form.id, "unit_id": report.unit.id, "period_code": period.code}
    plan.submissions.append(
        key | {"completed_at": completed, "completed_by": "demo", "on_time": on_time}
    )
    # The province approves within a few months, but not a report with an absurd figure.
    chance = (0.0, 0.25, 0.6)[report.month.age] if report.month.age < 3 else 0.95
    if form.approval_required and approvable and rng.random() < chance:
        approved = min(completed + timedelta(days=rng.uniform(1, 6)), now)
        plan.approvals.append(
            key | {"state": "approved", "approved_by": APPROVER, "approved_at": approved}
        )


def _text(value: float) -> str:
    return str(round(value)) if value == round(value) else f"{value:.2f}"


def _insert_new(
    session: Session, model: type[Submission] | type[Approval], rows: list[dict[str, Any]]
) -> None:
    """Bulk insert, leaving out the (form, unit, period) pairs that have one already."""
    if not rows:
        return
    forms = sorted({row["form_id"] for row in rows})
    found = session.execute(
        select(model.form_id, model.unit_id, model.period_code).where(model.form_id.in_(forms))
    )
    existing = {tuple(row) for row in found}
    fresh = [r for r in rows if (r["form_id"], r["unit_id"], r["period_code"]) not in existing]
    if fresh:
        session.connection().execute(insert(model), fresh)


# --- the figures ---------------------------------------------------------------------------


def draw_profile(rng: random.Random, unit_type: str) -> Profile:
    if unit_type == "department":
        dossiers, documents = rng.uniform(400, 6000), rng.uniform(600, 3000)
    elif unit_type == "ward":
        dossiers, documents = rng.uniform(1100, 2600), rng.uniform(250, 900)
    else:
        dossiers, documents = rng.uniform(350, 1400), rng.uniform(120, 500)
    online = rng.uniform(0.2, 0.45) + (0.1 if unit_type == "ward" else 0.0)
    return Profile(
        dossiers=dossiers,
        online=(online, min(0.95, online + rng.uniform(0.2, 0.4))),
        # Most units settle nearly everything on time; a few struggle.
        overdue=rng.uniform(0.003, 0.025) if rng.random() < 0.8 else rng.uniform(0.03, 0.065),
        documents=documents,
        signed=(rng.uniform(0.65, 0.9), rng.uniform(0.96, 0.995)),
        hotline=dossiers / rng.uniform(40, 80),
        late=rng.uniform(0.02, 0.08) if rng.random() < 0.8 else rng.uniform(0.25, 0.5),
        silent=0.006 if rng.random() < 0.85 else rng.uniform(0.04, 0.1),
    )


def work_season(period: Period) -> float:
    """Public-service work through the year: the Tết month is a third lighter, the weeks after
    it slow, the weeks before it and December busy."""
    tet = TET.get(period.start.year, date(period.start.year, 2, 5))
    for shift, factor in ((0, 0.65), (20, 0.85), (-20, 1.1)):
        if period.start <= tet + timedelta(days=shift) <= period.end:
            return factor
    return 1.08 if period.start.month == 12 else 1.0


def _noise(rng: random.Random, spread: float) -> float:
    return max(0.5, rng.gauss(1.0, spread))


def _between(pair: tuple[float, float], progress: float) -> float:
    return pair[0] + (pair[1] - pair[0]) * progress


def unit_figures(rng: random.Random, profile: Profile, month: Month) -> Figures:
    """Dossiers by channel, documents and 1022 reports of a commune or a department."""
    season = work_season(month.period) * 1.06 ** (month.index / 12)
    received = profile.dossiers * season * _noise(rng, 0.08)
    online = min(0.97, _between(profile.online, month.progress) * _noise(rng, 0.04))
    late_share = profile.overdue * (1.25 - 0.5 * month.progress)  # slowly getting better
    figures: Figures = {}
    for option, share, risk in (("ONLINE", online, 0.7), ("IN_PERSON", 1 - online, 1.2)):
        got = round(received * share)
        processed = round(got * rng.uniform(0.93, 1.0))
        overdue = min(processed, round(processed * late_share * risk * _noise(rng, 0.35)))
        figures[("DOSSIERS_RECEIVED", option)] = got
        figures[("DOSSIERS_PROCESSED", option)] = processed
        figures[("DOSSIERS_ON_TIME", option)] = processed - overdue
        figures[("DOSSIERS_OVERDUE", option)] = overdue
    incoming = round(profile.documents * season * _noise(rng, 0.1))
    outgoing = round(incoming * rng.uniform(0.35, 0.55))
    hotline = max(0, round(profile.hotline * _noise(rng, 0.3)))
    figures |= {
        ("DOCS_INCOMING", ""): incoming,
        ("DOCS_HANDLED_ON_TIME", ""): round(incoming * rng.uniform(0.86, 0.995)),
        ("DOCS_OUTGOING", ""): outgoing,
        ("DOCS_SIGNED_DIGITALLY", ""): round(outgoing * _between(profile.signed, month.progress)),
        ("REPORTS_1022", ""): hotline,
        ("REPORTS_1022_ON_TIME", ""): round(hotline * rng.uniform(0.8, 1.0)),
    }
    return figures


def revenue_plan(year: int) -> float:
    return round(56_000 * 1.1 ** (year - 2024))  # tỷ đồng


def spending_plan(year: int) -> float:
    return round(38_000 * 1.1 ** (year - 2024))


def investment_plan(year: int) -> float:
    return round(28_000 * 1.15 ** (year - 2024))


def national_figures(rng: random.Random, profile: Profile, month: Month) -> Figures:
    """The province's eight monthly figures for the Government Office (billion VND, million
    USD, indices against the same month last year)."""
    year, number = month.period.start.year, month.period.start.month
    growth = month.index / 12
    season = work_season(month.period)
    retail = 1.15 if season == 1.1 else (0.95 if season < 1 else 1.0)  # shopping before Tết
    return {
        ("IIP_YOY", ""): round(108.5 + 1.5 * math.sin(month.index / 4) + rng.gauss(0, 0.4), 2),
        ("RETAIL_SALES", ""): round(26_000 * 1.09**growth * retail * _noise(rng, 0.03), 1),
        ("EXPORT_TURNOVER", ""): round(2_150 * 1.1**growth * season * _noise(rng, 0.05), 1),
        ("IMPORT_TURNOVER", ""): round(1_650 * 1.08**growth * season * _noise(rng, 0.05), 1),
        ("BUDGET_REVENUE", ""): round(
            revenue_plan(year) * 1.03 / 12 * REVENUE_SEASON[number - 1] * _noise(rng, 0.06), 1
        ),
        ("BUDGET_SPENDING", ""): round(
            spending_plan(year) * 0.93 / 12 * SPENDING_SEASON[number - 1] * _noise(rng, 0.06), 1
        ),
        ("PUBLIC_INV_DISBURSED", ""): round(
            investment_plan(year) * 0.92 * DISBURSEMENT[number - 1] * _noise(rng, 0.08), 1
        ),
        ("PUBLIC_INV_PLAN", ""): investment_plan(year),
        ("CPI_YOY", ""): round(103.8 + 0.7 * math.sin(month.index / 5 + 1) + rng.gauss(0, 0.2), 2),
    }


def budget_plan_figures(rng: random.Random, profile: Profile, month: Month) -> Figures:
    year = month.period.start.year
    return {
        ("BUDGET_REVENUE_PLAN", ""): revenue_plan(year),
        ("BUDGET_SPENDING_PLAN", ""): spending_plan(year),
    }


GENERATORS: dict[str, Callable[[random.Random, Profile, Month], Figures]] = {
    "COMMUNE_MONTHLY": unit_figures,
    "DEPARTMENT_MONTHLY": unit_figures,
    "NATIONAL_MONTHLY": national_figures,
    "BUDGET_PLAN_MONTHLY": budget_plan_figures,
}
# The province's own reports to the Government: never missing, rarely late.
RELIABLE = frozenset({"NATIONAL_MONTHLY", "BUDGET_PLAN_MONTHLY"})
