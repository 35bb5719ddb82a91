"""Indicators crossing a legend band or their target, worked out after values are saved.

The subscriber ``indicators.bands`` reads ``data_values.changed``; for the units it names (and
the units above them, whose figures cover them) and its periods, it computes every indicator
that has a legend or a target with the analytics engine — the same figures dashboards show —
and compares each with what it was (``indicator_bands``). A change of colour or of "target
met" publishes ``indicator.band_changed``, which alert rules watch. A figure seen for the first
time is announced only for a period that ended within ``RECENT_DAYS`` (filling two years of
history must not ring every bell at once), and only when it is not green/met.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Boolean, Float, String, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dieuhanh.core.db.base import Base, UTCDateTime, utcnow
from dieuhanh.core.events import EventRecord, Subscription, Topic, publish
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.analytics.analytics import analyze, legend_color
from dieuhanh.indicators.catalog.models import Indicator
from dieuhanh.indicators.catalog.periods import PeriodError, parse_period
from dieuhanh.indicators.values.topics import VALUES_CHANGED
from dieuhanh.units.models import Unit

BAND_CHANGED = "indicator.band_changed"
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
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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


TOPICS = (
    Topic(BAND_CHANGED, BandChanged, "An indicator's figure for a unit and period moved into "
          "another legend band, or crossed its target, after values were saved."),
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


def check_bands(session: Session, cells: list[dict[str, object]], now: datetime) -> int:
    """Compare the watched indicators for these cells with what they were; publish the
    changes. How many were published."""
    watched = list(session.scalars(
        select(Indicator).where(or_(Indicator.legend.is_not(None), Indicator.target.is_not(None)))
    ))  # fmt: skip
    if not watched or not cells:
        return 0
    by_code = {indicator.code: indicator for indicator in watched}
    periods = []
    for code in sorted({str(cell["period"]) for cell in cells}):
        try:
            periods.append(parse_period(code))
        except PeriodError:
            continue
    units = _with_ancestors(session, {str(cell["unit"]) for cell in cells})
    if not periods or not units:
        return 0
    analysis = analyze(session, indicators=list(by_code), units=units, periods=periods, now=now)
    names = {unit.code: (unit.id, unit.name) for unit in analysis.units}
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
        color = legend_color(indicator.legend, row.value)
        met = meets(indicator, row.value)
        band = known.get((row.indicator, row.unit, row.period))
        if band is None:
            band = IndicatorBand(indicator=row.indicator, unit_code=row.unit, period=row.period)
            session.add(band)
            announce = _worth_a_first_word(color, met, ends[row.period], recent)
            before_color, before_met = None, None
        else:
            announce = (band.color, band.meets_target) != (color, met)
            before_color, before_met = band.color, band.meets_target
        band.value, band.color, band.meets_target, band.updated_at = row.value, color, met, now
        if announce:
            publish(session, BAND_CHANGED, BandChanged(
                indicator=row.indicator, indicator_name=indicator.name, unit_code=row.unit,
                unit_name=names[row.unit][1], period=row.period, value=row.value,
                color=color, previous_color=before_color, label=_label(indicator, color),
                target=indicator.target, meets_target=met, previous_meets_target=before_met,
                first_seen=before_color is None and before_met is None, at=now,
            ), unit_id=names[row.unit][0])  # fmt: skip
            published += 1
    return published


def _worth_a_first_word(color: str | None, met: bool | None, end: date, recent: date) -> bool:
    return end >= recent and (color not in (None, "green") or met is False)


def subscriptions(runtime: Runtime) -> list[Subscription]:
    def handle(session: Session, event: EventRecord) -> None:
        check_bands(session, list(event.payload["cells"]), event.at)

    return [Subscription(SUBSCRIBER, (VALUES_CHANGED,), handle, batch_size=20)]
