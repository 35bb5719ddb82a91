"""Indicators crossing a legend band or their target, and values far from their history,
worked out after values are saved.

The subscriber ``indicators.bands`` reads ``data_values.changed``; for the units it names (and
the units above them, whose figures cover them) and its periods, it computes every indicator
that has a legend or a target with the analytics engine — the same figures dashboards show —
and compares each with what it was (``indicator_bands``). A change of colour or of "target
met" publishes ``indicator.band_changed``, which alert rules watch. A figure seen for the first
time is announced only for a period that ended within ``RECENT_DAYS`` (filling two years of
history must not ring every bell at once), and only when it is not green/met.

It also forecasts, for indicators with a target, whether the year's target will be missed
(``forecast.py``, ``indicator.forecast_miss``).

The same subscriber judges each saved value against its unit's own history (the robust
modified z-score of ``outliers.py``, as the outlier review page does) and publishes
``data_value.outlier`` with the same period last year beside it, for anomaly rules.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Boolean, Float, String, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dieuhanh.core.db.base import Base, UTCDateTime, utcnow
from dieuhanh.core.events import EventRecord, Subscription, Topic, publish
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.analytics.analytics import analyze
from dieuhanh.indicators.analytics.forecast import check_forecasts
from dieuhanh.indicators.analytics.outliers import find_outliers
from dieuhanh.indicators.catalog.models import DataElement, DataValue, Indicator, in_periods
from dieuhanh.indicators.catalog.periods import Period, PeriodError, parse_period
from dieuhanh.indicators.values.topics import VALUES_CHANGED
from dieuhanh.units.models import Unit

BAND_CHANGED = "indicator.band_changed"
OUTLIER = "data_value.outlier"
SUBSCRIBER = "indicators.bands"
RECENT_DAYS = 62


class IndicatorBand(Base):
    """An indicator's last known figure for a unit and period: its value, band and target."""

    __tablename__ = "indicator_bands"

    indicator: Mapped[str] = mapped_column(String(50), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    color: Mapped[str | None] = mapped_column(String(20))
    meets_target: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # last changed


class BandChanged(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicator: str = Field(description="The indicator's code.")
    indicator_name: str
    unit_code: str
    unit_name: str
    period: str
    value: float | None
    color: str | None = Field(description="The legend band's colour now (green, yellow, red).")
    previous_color: str | None
    label: str | None = Field(description="The band's label, e.g. Không đạt.")
    target: float | None
    meets_target: bool | None = Field(description="null when the indicator has no target.")
    previous_meets_target: bool | None
    first_seen: bool = Field(description="No figure was known before for this cell.")
    at: datetime


class OutlierFound(BaseModel):
    """A saved value far from its unit's own history (robust modified z-score)."""

    model_config = ConfigDict(extra="forbid")

    element: str
    element_name: str
    option: str
    unit_code: str
    unit_name: str
    period: str
    value: float
    score: float = Field(description="|value − median| / robust spread of the unit's history.")
    median: float
    lower: float = Field(description="The band the value would not be flagged in.")
    upper: float
    history: int = Field(description="How many earlier values it was judged against.")
    last_year: float | None = Field(description="The same period last year, if reported.")
    at: datetime


TOPICS = (
    Topic(BAND_CHANGED, BandChanged, "An indicator's figure for a unit and period moved into "
          "another legend band, or crossed its target, after values were saved."),
    Topic(OUTLIER, OutlierFound, "A value just saved lies far from its unit's own history "
          "(modified z-score over up to 36 earlier periods; the same period last year given)."),
)  # fmt: skip


def meets(indicator: Indicator, value: float | None) -> bool | None:
    if indicator.target is None or value is None:
        return None
    if indicator.direction == "lower_is_better":
        return value <= indicator.target
    return value >= indicator.target


def _label(indicator: Indicator, color: str | None) -> str | None:
    for band in indicator.legend or []:
        if band.get("color") == color:
            return band.get("label")
    return None


def _with_ancestors(session: Session, codes: set[str]) -> list[str]:
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    parents = {u.parent_id for u in units.values() if u.parent_id is not None}
    seen: set[int] = set()
    while parents - seen:
        seen |= parents
        above = list(session.scalars(select(Unit).where(Unit.id.in_(parents))))
        units.update({u.code: u for u in above})
        parents = {u.parent_id for u in above if u.parent_id is not None}
    return sorted(units)


def check_bands(session: Session, cells: list[dict[str, Any]], now: datetime) -> int:
    """Compare the watched indicators for these cells with what they were; publish the
    changes. How many were published."""
    watched = list(session.scalars(
        select(Indicator).where(or_(Indicator.legend.is_not(None), Indicator.target.is_not(None)))
    ))  # fmt: skip
    if not watched or not cells:
        return 0
    by_code = {indicator.code: indicator for indicator in watched}
    periods = _periods(cells)
    units = _with_ancestors(session, {str(cell["unit"]) for cell in cells})
    if not periods or not units:
        return 0
    analysis = analyze(session, indicators=list(by_code), units=units, periods=periods, now=now)
    unit_ids = {unit.code: unit.id for unit in analysis.units}
    ends = {period.code: period.end for period in periods}
    known = {
        (band.indicator, band.unit_code, band.period): band
        for band in session.scalars(select(IndicatorBand).where(
            IndicatorBand.unit_code.in_(units), IndicatorBand.period.in_(list(ends))))
    }  # fmt: skip
    recent = now.date() - timedelta(days=RECENT_DAYS)
    published = 0
    for row in analysis.rows:
        indicator = by_code[row.indicator]
        color, met = row.color, meets(indicator, row.value)  # the band as dashboards colour it
        band = known.get((row.indicator, row.unit, row.period))
        if band is None:
            band = IndicatorBand(indicator=row.indicator, unit_code=row.unit, period=row.period)
            session.add(band)
            announce = _worth_a_first_word(color, met, ends[row.period], recent)
            before_color, before_met = None, None
        elif (band.value, band.color, band.meets_target) == (row.value, color, met):
            continue  # the same figure as last time: nothing to write, nothing to say
        else:
            announce = (band.color, band.meets_target) != (color, met)
            before_color, before_met = band.color, band.meets_target
        band.value, band.color, band.meets_target, band.updated_at = row.value, color, met, now
        if announce:
            publish(session, BAND_CHANGED, BandChanged(
                indicator=row.indicator, indicator_name=indicator.name, unit_code=row.unit,
                unit_name=row.unit_name, period=row.period, value=row.value,
                color=color, previous_color=before_color, label=_label(indicator, color),
                target=indicator.target, meets_target=met, previous_meets_target=before_met,
                first_seen=before_color is None and before_met is None, at=now,
            ), unit_id=unit_ids[row.unit])  # fmt: skip
            published += 1
    return published


def _periods(cells: list[dict[str, Any]]) -> list[Period]:
    """The periods the cells name (a code that is not a period is passed over)."""
    periods = []
    for code in sorted({str(cell["period"]) for cell in cells}):
        try:
            periods.append(parse_period(code))
        except PeriodError:
            continue
    return periods


def _worth_a_first_word(color: str | None, met: bool | None, end: date, recent: date) -> bool:
    return end >= recent and (color not in (None, "green") or met is False)


def check_outliers(session: Session, cells: list[dict[str, Any]], now: datetime) -> int:
    """Publish the values of these cells that lie far from their history; how many."""
    codes = sorted({code for cell in cells for code in cell.get("elements", [])})
    elements = list(session.scalars(select(DataElement).where(DataElement.code.in_(codes))))
    unit_codes = {str(cell["unit"]) for cell in cells}
    units = dict(session.execute(select(Unit.code, Unit.id).where(Unit.code.in_(unit_codes))).all())
    periods = _periods(cells)
    if not elements or not units or not periods:
        return 0
    wanted = {(str(c["unit"]), str(c["period"]), e) for c in cells for e in c.get("elements", [])}
    judged = find_outliers(session, elements=elements, unit_ids=frozenset(units.values()),
                           periods=periods)  # fmt: skip
    found = [o for o in judged if (o.unit, o.period, o.element) in wanted]
    ids = {element.code: element.id for element in elements}
    for outlier in found:
        a_year_ago = parse_period(outlier.period).same_period_last_year()
        last_year = session.scalar(
            select(DataValue.numeric).where(
                DataValue.element_id == ids[outlier.element],
                in_periods([a_year_ago]),
                DataValue.unit_id == units[outlier.unit],
                DataValue.option == outlier.option,
            )
        )
        publish(session, OUTLIER, OutlierFound(
            element=outlier.element, element_name=outlier.element_name, option=outlier.option,
            unit_code=outlier.unit, unit_name=outlier.unit_name, period=outlier.period,
            value=outlier.value, score=round(outlier.score, 2), median=outlier.median,
            lower=outlier.lower, upper=outlier.upper, history=outlier.history,
            last_year=last_year, at=now,
        ), unit_id=units[outlier.unit])  # fmt: skip
    return len(found)


def subscriptions(runtime: Runtime) -> list[Subscription]:
    def handle(session: Session, event: EventRecord) -> None:
        cells = list(event.payload["cells"])
        # What the checks add (bands, forecasts, events) is written once, when the event's
        # savepoint ends, not flushed again before many of the queries that follow (914
        # flushes over the demo's 35-month backlog).
        with session.no_autoflush:
            check_bands(session, cells, event.at)
            check_outliers(session, cells, event.at)
            units = _with_ancestors(session, {str(cell["unit"]) for cell in cells})
            check_forecasts(session, cells, units, event.at)

    return [Subscription(SUBSCRIBER, (VALUES_CHANGED,), handle, batch_size=20)]
