"""Indicator analytics: numerator ÷ denominator × factor for units × periods, always current.

Every query reads data_values as they are now (see indicators.rollup for the one SQL query and
the roll-up), so a value saved is visible in the next query: no analytics tables, no batch job.

RATIOS AGGREGATE NUMERATOR AND DENOMINATOR FIRST, THEN DIVIDE (issue 5): the province's overdue
rate is the sum of overdue dossiers over the sum of processed ones, never the average of the
communes' rates. Each expression is evaluated once per (unit, period) cell on values already rolled
up to that unit and period, which gives exactly that.

Missing data: numerators and denominators are evaluated with ``skip_if_all_missing`` (DHIS2's
indicator behaviour): a cell is empty only when none of its items has a value; a missing item
among present ones counts as 0. A null or zero denominator gives no value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from dieuhanh.core.access import Scope
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import InvalidInput
from dieuhanh.indicators.analytics.targets import resolve_targets
from dieuhanh.indicators.catalog.periods import Period
from dieuhanh.indicators.values.cells import CellValues, Evaluator
from dieuhanh.indicators.values.plan import IndicatorDef, element_items, plan_indicators
from dieuhanh.indicators.values.rollup import TreeUnit, load_tree


class AnalyticsRow(NamedTuple):
    """One cell of the answer. A named tuple: thousands are built per query, and a tuple is the
    cheapest immutable record Python builds."""

    indicator: str
    unit: str
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    unit_name: str
    period_name: str
    color: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The public row shape of GET /api/v1/analytics (a contract: keys never change)."""
        return {
            "indicator": self.indicator,
            "unit": self.unit,
            "period": self.period,
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "unitName": self.unit_name,
            "periodName": self.period_name,
            "color": self.color,
        }


@dataclass(frozen=True)
class Analysis:
    rows: list[AnalyticsRow]
    units: list[TreeUnit]
    periods: list[Period]
    indicators: dict[str, IndicatorDef]


def query(
    session: Session,
    *,
    indicators: Sequence[str],
    units: Sequence[str] | None = None,
    level: str | None = None,
    parent: str | None = None,
    periods: Sequence[Period],
    scope: Scope | None = None,
    include_unapproved: bool = True,
    now: datetime | None = None,
    lang: str = "vi",
) -> list[AnalyticsRow]:
    """Rows ``{indicator, unit, period, value, numerator, denominator}``, one per requested
    indicator × unit × period that has a value or a numerator (empty cells are left out, as in
    DHIS2). See :func:`analyze` for the parameters."""
    return analyze(
        session,
        indicators=indicators,
        units=units,
        level=level,
        parent=parent,
        periods=periods,
        scope=scope,
        include_unapproved=include_unapproved,
        now=now,
        lang=lang,
    ).rows


def analyze(
    session: Session,
    *,
    indicators: Sequence[str],
    units: Sequence[str] | None = None,
    level: str | None = None,
    parent: str | None = None,
    periods: Sequence[Period],
    scope: Scope | None = None,
    include_unapproved: bool = True,
    now: datetime | None = None,
    lang: str = "vi",
) -> Analysis:
    """The rows and what they refer to (unit names, period labels, indicator definitions).

    ``units``: unit codes; ``level`` ("province", "commune", "department") under ``parent``; both
    may be given. Each unit's figure covers its whole subtree. ``scope``: the caller's read scope.
    ``include_unapproved=False`` leaves out values of forms that hide unapproved data until the
    unit's report for that period is approved. ``now`` decides which reports are due, for
    R{FORM.…} items.
    """
    if not indicators:
        raise InvalidInput("Give at least one indicator code.", code="missing_indicator")
    if not periods:
        raise InvalidInput("Give at least one period.", code="missing_period")
    codes = list(dict.fromkeys(indicators))
    plan = plan_indicators(session, codes)
    targets = resolve_targets(
        session, units=units, level=level, parent=parent, scope=scope or Scope.everything()
    )
    ordered = sorted(set(periods))
    tree = load_tree(session, targets)
    values = CellValues.load(
        session, plan, tree, ordered, approved_only=not include_unapproved, now=now or utcnow()
    )
    evaluator = Evaluator(plan, values)
    ids = [target.id for target in targets]
    by_id = {target.id: target for target in targets}
    labels = [(period.code, period.label(lang)) for period in ordered]
    rows: list[AnalyticsRow] = []
    for code in codes:
        definition = plan.indicators[code]
        rows.extend(_rows(definition, evaluator.grid(definition, ids, ordered), by_id, labels))
    return Analysis(rows, targets, ordered, {code: plan.indicators[code] for code in codes})


def _rows(
    definition: IndicatorDef,
    sides: Iterable[tuple[int, list[float | None], list[float | None]]],
    targets: dict[int, TreeUnit],
    labels: list[tuple[str, str]],
) -> Iterator[AnalyticsRow]:
    """The answer's rows of one indicator, from each target's numerators and denominators: run
    once per cell, so it is kept flat. A row is made by ``tuple.__new__`` (the named tuple's own
    constructor is Python code, twice the cost), and a whole number is not rounded (``round``
    with digits costs 0.3 µs; the benchmark's 5,700 cells round three numbers each)."""
    code, decimals, legend, factor = (
        definition.code, definition.decimals, definition.legend, definition.factor
    )  # fmt: skip
    make = tuple.__new__
    for target_id, numerators, denominators in sides:
        target = targets[target_id]
        unit, unit_name = target.code, target.name
        shown_numerators, shown_denominators = _tidied(numerators), _tidied(denominators)
        for (period, period_name), numerator, denominator, shown_top, shown_bottom in zip(
            labels, numerators, denominators, shown_numerators, shown_denominators, strict=True
        ):
            if numerator is None:  # no value either: an empty cell is left out (DHIS2)
                continue
            shown = round(numerator / denominator * factor, decimals) if denominator else None
            yield make(AnalyticsRow, (
                code, unit, period, shown, shown_top, shown_bottom, unit_name,
                period_name, legend_color(legend, shown) if legend else None,
            ))  # fmt: skip


def _tidied(numbers: list[float | None]) -> list[float | None]:
    """The numbers :func:`_tidy`'d; most often a row of counts, whole already, which one pass
    in C tells (a cell each costs 0.4 ms of the benchmark's 5,700 cells)."""
    try:
        if all(map(float.is_integer, numbers)):  # type: ignore[arg-type]
            return numbers
    except TypeError:  # a None (an empty cell) or an int: checked one by one
        pass
    return [_tidy(number) for number in numbers]


def _tidy(number: float | None) -> float | None:
    # Sums of floats carry noise (0.1 + 0.2); six decimals are more than any reported figure has.
    # A whole number has none: most figures are counts.
    return number if number is None or number % 1 == 0 else round(number, 6)


def legend_color(legend: list[dict[str, Any]] | None, value: float | None) -> str | None:
    """The colour of the band holding ``value``: start ≤ value < end; a value equal to a band's
    end belongs to it only if no band starts there (so 100 % is green in [90, 100])."""
    if value is None or not legend:
        return None
    for inclusive in (False, True):
        for band in legend:
            start, end = band.get("start"), band.get("end")
            above = start is None or value >= start
            below = end is None or value < end or (inclusive and value == end)
            if above and below:
                color: str | None = band.get("color")
                return color
    return None


# --- raw element figures (dashboards) --------------------------------------------------------


@dataclass(frozen=True)
class ElementRow:
    element: str
    option: str
    unit: str
    period: str
    value: float
    unit_name: str
    period_name: str

    def to_json(self) -> dict[str, Any]:
        return {
            "element": self.element,
            "option": self.option,
            "unit": self.unit,
            "period": self.period,
            "value": _tidy(self.value),
            "unitName": self.unit_name,
            "periodName": self.period_name,
        }


def element_values(
    session: Session,
    *,
    elements: Sequence[str],
    units: Sequence[str] | None = None,
    level: str | None = None,
    parent: str | None = None,
    periods: Sequence[Period],
    scope: Scope | None = None,
    include_unapproved: bool = True,
    lang: str = "vi",
) -> list[ElementRow]:
    """Element totals (``CODE``) or one option's (``CODE.OPTION``) per unit (its subtree) and
    period, aggregated by each element's aggregation type — the same figures indicators use."""
    plan, wanted = element_items(session, elements)
    targets = resolve_targets(
        session, units=units, level=level, parent=parent, scope=scope or Scope.everything()
    )
    ordered = sorted(set(periods))
    tree = load_tree(session, targets)
    values = CellValues.load(
        session, plan, tree, ordered, approved_only=not include_unapproved, now=utcnow()
    )
    rows = []
    for code, option, key in wanted:
        for target in targets:
            for period in ordered:
                found = values.get(key, target.id, period)
                if found is not None:
                    rows.append(
                        ElementRow(
                            code,
                            option,
                            target.code,
                            period.code,
                            found,
                            target.name,
                            period.label(lang),
                        )
                    )
    return rows
