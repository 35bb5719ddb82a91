"""Values far from their unit's own history, listed for review (issue 5, part 8).

Each value is compared with the values the same unit reported for the same element and option
in earlier periods of the same type (at most ``history`` of them, the most recent):

- ``z``: |x − mean| / sd, sd the population standard deviation (as DHIS2); default threshold 3.0.
- ``modified_z`` (Iglewicz & Hoaglin): 0.6745 · |x − median| / MAD, MAD the median absolute
  deviation from the median; default threshold 3.5. Robust: one earlier outlier does not hide the
  next one, as it inflates the sd of the plain z-score.

Guards, because DHIS2 warns that zero-heavy and short series over-flag:
- fewer than 6 earlier values: not judged (a 3-month-old commune has no "normal" yet);
- MAD = 0 (more than half the history equal, typically all zeros): the score falls back to
  |x − median| / (1.253314 · mean absolute deviation from the median), the same fallback SPSS and
  IBM use; 1.253314 = √(π/2) makes it consistent with the sd for normal data;
- sd = 0, or MAD and mean absolute deviation both 0 (a flat history): not judged — any change
  from a constant would score infinity, and a constant series is better checked by a rule.

The band [lower, upper] is where a value would not be flagged (mean ± threshold·sd, or
median ± threshold·scale): the "min–max band" of the issue, derived from the history rather
than typed per unit; a configured band per element and unit would need a table of its own.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.indicators.catalog.models import DataElement, DataValue
from dieuhanh.indicators.catalog.periods import Period
from dieuhanh.indicators.values.rollup import driver_rows
from dieuhanh.units.models import Unit

MIN_HISTORY = 6
DEFAULT_HISTORY = 36
MAD_SCALE = 0.6745  # the 0.75 quantile of the standard normal: MAD / 0.6745 estimates the sd
MEAN_AD_SCALE = 1.253314  # √(π/2): mean absolute deviation × this estimates the sd


class Method(StrEnum):
    Z = "z"
    MODIFIED_Z = "modified_z"

    @property
    def default_threshold(self) -> float:
        return 3.0 if self is Method.Z else 3.5


@dataclass(frozen=True)
class Score:
    score: float
    mean: float
    median: float
    spread: float  # sd for z; the sd estimate (MAD/0.6745 or 1.2533·MeanAD) for modified z
    lower: float
    upper: float


def score(history: Sequence[float], value: float, method: Method, threshold: float) -> Score | None:
    """How far ``value`` lies from ``history``; None when the history cannot judge it."""
    if len(history) < MIN_HISTORY:
        return None
    mean = statistics.fmean(history)
    median = statistics.median(history)
    if method is Method.Z:
        spread = statistics.pstdev(history, mu=mean)
        centre = mean
    else:
        mad = statistics.median(abs(x - median) for x in history)
        if mad > 0:
            spread = mad / MAD_SCALE
        else:
            spread = MEAN_AD_SCALE * statistics.fmean(abs(x - median) for x in history)
        centre = median
    if spread <= 0 or not math.isfinite(spread):
        return None
    return Score(
        score=abs(value - centre) / spread,
        mean=mean,
        median=median,
        spread=spread,
        lower=centre - threshold * spread,
        upper=centre + threshold * spread,
    )


@dataclass(frozen=True)
class Outlier:
    element: str
    element_name: str
    option: str
    unit: str
    unit_name: str
    period: str
    value: float
    score: float
    mean: float
    median: float
    lower: float
    upper: float
    history: int  # how many earlier values it was judged against


def find_outliers(
    session: Session,
    *,
    elements: Sequence[DataElement],
    unit_ids: frozenset[int],
    periods: Sequence[Period],
    method: Method = Method.MODIFIED_Z,
    threshold: float | None = None,
    history: int = DEFAULT_HISTORY,
    limit: int = 500,
) -> list[Outlier]:
    """The values of ``elements`` at ``unit_ids`` inside ``periods`` whose score exceeds the
    threshold, highest score first."""
    if not elements or not unit_ids or not periods:
        return []
    limit_score = method.default_threshold if threshold is None else threshold
    first = min(p.start for p in periods)
    last = max(p.end for p in periods)
    earliest = min(periods).offset(-history).start
    rows = driver_rows(
        session,
        select(
            DataValue.element_id,
            DataValue.unit_id,
            DataValue.option,
            DataValue.period_type,
            DataValue.period_code,
            DataValue.period_start,
            DataValue.period_end,
            DataValue.numeric,
        )
        .where(
            DataValue.element_id.in_(sorted(e.id for e in elements)),
            DataValue.unit_id.in_(sorted(unit_ids)),
            DataValue.period_start >= earliest,
            DataValue.period_start <= last,
            DataValue.numeric.is_not(None),
        )
        .order_by(DataValue.period_start),
        dates=(5, 6),
    )
    series: dict[tuple[int, int, str, str], list[tuple[str, date, date, float]]] = defaultdict(list)
    for element_id, unit_id, option, kind, code, start, end, number in rows:
        assert number is not None  # filtered in SQL
        series[(element_id, unit_id, option, kind)].append((code, start, end, number))
    checked = [(p.start, p.end) for p in periods]
    found = []
    for key, values in series.items():
        for index, (code, start, end, number) in enumerate(values):
            if start < first or not _inside(start, end, checked):
                continue
            earlier = [v[3] for v in values[max(0, index - history) : index]]
            judged = score(earlier, number, method, limit_score)
            if judged is not None and judged.score > limit_score:
                found.append((key, code, number, judged, len(earlier)))
    found.sort(key=lambda item: -item[3].score)
    return _describe(session, elements, found[:limit])


def _inside(start: date, end: date, windows: Iterable[tuple[date, date]]) -> bool:
    return any(w_start <= start and end <= w_end for w_start, w_end in windows)


def _describe(
    session: Session,
    elements: Sequence[DataElement],
    found: list[tuple[tuple[int, int, str, str], str, float, Score, int]],
) -> list[Outlier]:
    by_id = {e.id: e for e in elements}
    unit_ids = sorted({key[1] for key, *_ in found})
    units = {
        row.id: (row.code, row.name)
        for row in session.execute(
            select(Unit.id, Unit.code, Unit.name).where(Unit.id.in_(unit_ids))
        )
    }
    return [
        Outlier(
            element=by_id[element_id].code,
            element_name=by_id[element_id].name,
            option=option,
            unit=units[unit_id][0],
            unit_name=units[unit_id][1],
            period=code,
            value=number,
            score=judged.score,
            mean=judged.mean,
            median=judged.median,
            lower=judged.lower,
            upper=judged.upper,
            history=count,
        )
        for (element_id, unit_id, option, _), code, number, judged, count in found
    ]
