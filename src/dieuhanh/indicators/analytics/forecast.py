"""A warning before a target is missed (issue #13: "a simple forecast (e.g. exponential
smoothing) that warns before a target will be missed").

After values are saved, the subscriber ``indicators.bands`` also calls :func:`check_forecasts`:
for every indicator with a target, for the saved units (and the units above them) and each year
a saved month falls in that is not over yet, it takes the unit's monthly figures — the same
figures dashboards show, from the analytics engine — over the 24 months up to the latest one,
fits Holt's linear trend (exponential smoothing of a level and a trend, :func:`fit_holt`) and
projects it to December, the end of the target's period. Its verdict:

- ``at_risk``: the latest monthly figure still meets the target, the projection does not — the
  warning, while there is still time to act;
- ``on_track``: both meet it;
- ``missed``: the latest figure already misses it (the band rules tell that one).

``indicator.forecast_miss`` is published when the verdict of an indicator × unit × year changes
(first seen: only when at risk), with the projection, the horizon and the fitted parameters;
``indicator_forecasts`` keeps the last verdict, so a repeated save says nothing new.

Why Holt and not statsmodels: it is not a dependency, and the method is a few lines whose every
number can be checked by hand. The parameters are fitted by a grid search minimising the squared
one-step-ahead errors (ties: the smallest parameters, the smoothest fit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Float, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dieuhanh.core.db.base import Base, UTCDateTime, utcnow
from dieuhanh.core.events import Topic, publish
from dieuhanh.indicators.analytics.analytics import analyze
from dieuhanh.indicators.catalog.models import Indicator
from dieuhanh.indicators.catalog.periods import Period, PeriodType, period_of

FORECAST_MISS = "indicator.forecast_miss"
HISTORY_MONTHS = 24
MIN_POINTS = 4  # fewer monthly figures: no trend worth projecting
GRID = tuple(round(0.1 * step, 1) for step in range(1, 10))  # 0.1 … 0.9
AT_RISK, ON_TRACK, MISSED = "at_risk", "on_track", "missed"


class IndicatorForecast(Base):
    """The last verdict of an indicator's forecast for a unit and a target period (a year)."""

    __tablename__ = "indicator_forecasts"

    indicator: Mapped[str] = mapped_column(String(50), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(20), primary_key=True)  # the target's: 2026
    verdict: Mapped[str] = mapped_column(String(10))
    forecast: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ForecastMiss(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicator: str
    indicator_name: str
    unit_code: str
    unit_name: str
    target_period: str = Field(description="The period the target is for (the year), e.g. 2026.")
    last_period: str = Field(description="The latest month with a figure, e.g. 202604.")
    value: float = Field(description="That month's figure.")
    target: float
    direction: str = Field(description="higher_is_better or lower_is_better.")
    forecast: float = Field(description="The projected figure at the end of the target period.")
    horizon: int = Field(description="How many months ahead the projection looks.")
    alpha: float = Field(description="Holt's fitted level smoothing (0-1).")
    beta: float = Field(description="Holt's fitted trend smoothing (0-1).")
    points: int = Field(description="How many monthly figures the fit used.")
    verdict: str = Field(description="at_risk (will miss, still meets), on_track or missed.")
    previous_verdict: str | None
    at: datetime


TOPICS = (
    Topic(FORECAST_MISS, ForecastMiss, "The forecast of an indicator for a unit (Holt's "
          "exponential smoothing over its monthly figures, to the end of the year) started or "
          "stopped saying its target will be missed while the figure still meets it."),
)  # fmt: skip


@dataclass(frozen=True)
class HoltFit:
    alpha: float
    beta: float
    level: float
    trend: float
    sse: float

    def project(self, horizon: int) -> float:
        return self.level + horizon * self.trend


def holt(series: Sequence[float], alpha: float, beta: float) -> HoltFit:
    """Holt's linear trend over ``series`` (at least two values): level ℓ₀ = y₀, trend
    b₀ = y₁ − y₀; then ℓₜ = αyₜ + (1−α)(ℓₜ₋₁ + bₜ₋₁), bₜ = β(ℓₜ − ℓₜ₋₁) + (1−β)bₜ₋₁.
    ``sse``: the squared errors of each one-step-ahead forecast ℓₜ₋₁ + bₜ₋₁ (y₁'s is 0 by
    construction)."""
    level, trend, sse = _smooth(series, alpha, beta, series[0], series[1] - series[0], 0.0)
    return HoltFit(alpha, beta, level, trend, sse)


def _smooth(series: Sequence[float], alpha: Any, beta: Any, level: Any, trend: Any,
            sse: Any) -> tuple[Any, Any, Any]:  # fmt: skip
    """The recurrences of :func:`holt` from ``series[1]`` on, for one α, β (floats) or for many
    at once (arrays of them, element-wise: the same numbers for each)."""
    for value in series[1:]:
        expected = level + trend
        error = value - expected
        sse += error * error
        previous, level = level, alpha * value + (1 - alpha) * expected
        trend = beta * (level - previous) + (1 - beta) * trend
    return level, trend, sse


# Every (α, β) of the grid search, α-major: the order ties are broken in.
_ALPHAS, _BETAS = (numpy.array(axis).ravel() for axis in numpy.meshgrid(GRID, GRID, indexing="ij"))


def fit_holt(series: Sequence[float]) -> HoltFit:
    """The α, β of :data:`GRID` with the smallest one-step-ahead squared error (ties: the first
    in α-major order). :func:`holt` for all 81 pairs at once, one array operation per step over
    the pairs: the same numbers bit for bit (element-wise float64 arithmetic in the same order),
    2.9× faster; ``indicators.bands`` fits about a thousand series per month saved for the
    province, and the pure-Python grid was a third of its time."""
    alphas, betas = _ALPHAS, _BETAS
    level, trend, sse = _smooth(
        series, alphas, betas, numpy.full(alphas.shape, float(series[0])),
        numpy.full(alphas.shape, float(series[1] - series[0])), numpy.zeros(alphas.shape),
    )  # fmt: skip
    errors, best = sse.tolist(), 0
    for index, error in enumerate(errors):
        if error < errors[best] - 1e-9:
            best = index
    return HoltFit(float(alphas[best]), float(betas[best]), float(level[best]),
                   float(trend[best]), errors[best])  # fmt: skip


def meets(direction: str, target: float, value: float) -> bool:
    return value <= target if direction == "lower_is_better" else value >= target


def verdict(direction: str, target: float, latest: float, forecast: float) -> str:
    if not meets(direction, target, latest):
        return MISSED
    return ON_TRACK if meets(direction, target, forecast) else AT_RISK


def _years(cells: list[dict[str, Any]], today: date) -> list[Period]:
    """The years (target periods) the saved months fall in that are not over yet."""
    years = set()
    for cell in cells:
        code = str(cell["period"])
        if len(code) == 6 and code.isdigit() and 1 <= int(code[4:]) <= 12:
            year = period_of(PeriodType.YEARLY, date(int(code[:4]), int(code[4:]), 1))
            if year.end >= today and year.start <= today:
                years.add(year)
    return sorted(years)


def check_forecasts(
    session: Session, cells: list[dict[str, Any]], units: list[str], now: datetime
) -> int:
    """Forecast the indicators with a target for these units over the years the cells' months
    fall in; publish the changes of verdict. How many were published."""
    indicators = {i.code: i for i in session.scalars(
        select(Indicator).where(Indicator.target.is_not(None)))}  # fmt: skip
    if not indicators or not units:
        return 0
    today = now.date()
    published = 0
    for year in _years(cells, today):
        last = min(period_of(PeriodType.MONTHLY, today), period_of(PeriodType.MONTHLY, year.end))
        months = [last.offset(-back) for back in range(HISTORY_MONTHS - 1, -1, -1)]
        published += _check_year(session, indicators, units, year, months, now)
    return published


def _check_year(
    session: Session, indicators: dict[str, Indicator], units: list[str], year: Period,
    months: list[Period], now: datetime,
) -> int:  # fmt: skip
    analysis = analyze(session, indicators=list(indicators), units=units, periods=months, now=now)
    unit_ids = {unit.code: unit.id for unit in analysis.units}
    names = {row.unit: row.unit_name for row in analysis.rows}
    series: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for row in analysis.rows:  # in period order within each indicator × unit
        if row.value is not None:
            series.setdefault((row.indicator, row.unit), []).append((row.period, row.value))
    stored = select(IndicatorForecast).where(
        IndicatorForecast.period == year.code, IndicatorForecast.unit_code.in_(units)
    )
    known = {(f.indicator, f.unit_code): f for f in session.scalars(stored)}  # fmt: skip
    published = 0
    for (code, unit), points in sorted(series.items()):
        if len(points) < MIN_POINTS or not points[-1][0].startswith(year.code):
            continue  # too little history, or nothing yet in the target's year
        memory = known.get((code, unit))
        if memory is None:
            memory = IndicatorForecast(indicator=code, unit_code=unit, period=year.code)
            session.add(memory)
        news = _judge(memory, indicators[code], names[unit], points, now)
        if news is not None:
            publish(session, FORECAST_MISS, news, unit_id=unit_ids[unit])
            published += 1
    return published


def _judge(
    memory: IndicatorForecast, indicator: Indicator, unit_name: str,
    points: list[tuple[str, float]], now: datetime,
) -> ForecastMiss | None:  # fmt: skip
    """Project the series to December; remember the verdict; the event if it is news."""
    last_period, latest = points[-1]
    target = float(indicator.target or 0)
    horizon = 12 - int(last_period[4:])
    fit = fit_holt([value for _, value in points])
    projected = round(fit.project(horizon), 4)
    found = verdict(indicator.direction, target, latest, projected)
    before = memory.verdict
    memory.verdict, memory.forecast, memory.updated_at = found, projected, now
    if found == before or (before is None and found != AT_RISK):
        return None  # no change, or a first look that finds nothing to warn about
    return ForecastMiss(
        indicator=indicator.code, indicator_name=indicator.name, unit_code=memory.unit_code,
        unit_name=unit_name, target_period=memory.period, last_period=last_period, value=latest,
        target=target, direction=indicator.direction, forecast=projected, horizon=horizon,
        alpha=fit.alpha, beta=fit.beta, points=len(points), verdict=found,
        previous_verdict=before, at=now,
    )  # fmt: skip
