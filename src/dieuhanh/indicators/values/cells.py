"""Values of expression items at (unit, period) cells, and expressions evaluated on them.

Shared by indicator analytics and validation rules: both need every item of their expressions
rolled up to the requested units and periods (indicators.rollup), then each expression evaluated
once per cell with a ``resolve`` callback that looks the item up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from dieuhanh.indicators.catalog.expression import Expression, Item, ItemRef, MissingValues, Number
from dieuhanh.indicators.catalog.models import AggregationType
from dieuhanh.indicators.catalog.periods import Period
from dieuhanh.indicators.values.hooks import NO_REPORTING, Reporting, reporting_of
from dieuhanh.indicators.values.plan import NO_SHIFT, IndicatorDef, Plan, Shift, compose, window
from dieuhanh.indicators.values.rollup import (
    FIRST_SERIES,
    FetchRequest,
    Rolled,
    UnitTree,
    WindowIndex,
    fetch,
    roll_up,
    roll_up_sums,
)

# Indicators: empty only when every item is missing; a missing item among present ones is 0.
SKIP: MissingValues = "skip_if_all_missing"


class CellValues:
    """Every series an evaluation needs, rolled up to (target unit, window)."""

    def __init__(
        self,
        series: dict[tuple[int, str, str], Rolled],
        forms: dict[str, dict[str, Rolled]],
        windows: WindowIndex,
        reporting: Reporting = NO_REPORTING,
    ):
        self.series = series
        self.forms = forms
        self.windows = windows
        # Turns a form's rolled-up report counts into an R{FORM.METRIC} figure.
        self.reporting = reporting

    def get(self, key: tuple[int, str, str], target: int, period: Period) -> float | None:
        """One series' value for a unit and a period as requested (no shift)."""
        number = self.windows.number.get((period.start, period.end))
        return None if number is None else self.series[key].get((target, number))

    @classmethod
    def load(
        cls,
        session: Session,
        plan: Plan,
        tree: UnitTree,
        periods: Sequence[Period],
        *,
        approved_only: bool,
        now: datetime,
    ) -> CellValues:
        windows = WindowIndex(plan.windows(periods))
        if not windows.windows or not tree.targets:
            return cls({key: {} for key in plan.series}, {}, windows)
        columns = list(dict.fromkeys((element_id, option) for element_id, option, _ in plan.series))
        request = FetchRequest(
            series=tuple(columns),
            unit_ids=tree.unit_ids,
            first=windows.first,
            last=windows.last,
            approved_only=approved_only,
        )
        rows = fetch(session, request)
        sums = [key for key in plan.series if key[2] == AggregationType.SUM]
        rolled = roll_up_sums(
            rows, [FIRST_SERIES + columns.index(key[:2]) for key in sums], tree, windows
        )
        series = dict(zip(sums, rolled, strict=True))
        for key in plan.series:
            if key not in series:
                column = FIRST_SERIES + columns.index(key[:2])
                series[key] = roll_up(rows, column, tree, windows, key[2])
        forms = {}
        reporting = reporting_of(session)
        for code in plan.form_shifts:
            counts = reporting.reporting_cells(
                session, plan.forms[code], tree.unit_ids, windows.first, windows.last, now=now
            )
            forms[code] = {
                name: roll_up(
                    [(*cell, value) for cell, value in cells.items()],
                    FIRST_SERIES,
                    tree,
                    windows,
                    AggregationType.SUM,
                )
                for name, cells in counts.items()
            }
        return cls(series, forms, windows, reporting)


Cell = tuple[float | None, float | None, float | None]  # numerator, denominator, value
# (target unit id, index of the requested period) → value
Column = Callable[[int, int], float | None]


class Evaluator:
    def __init__(self, plan: Plan, values: CellValues) -> None:
        self.plan = plan
        self.values = values
        self.windows: dict[tuple[Period, Shift], int | None] = {}
        self.keys: dict[Item, tuple[int, str, str]] = {}

    def cell(
        self, definition: IndicatorDef, target: int, period: Period, shift: Shift = NO_SHIFT
    ) -> tuple[float | None, float | None, float | None]:
        def resolve(item: Item) -> float | None:
            return self.resolve(item, target, period, shift)

        numerator = definition.numerator.evaluate(resolve, missing=SKIP)
        denominator = definition.denominator.evaluate(resolve, missing=SKIP)
        if numerator is None or not denominator:
            return numerator, denominator, None
        return numerator, denominator, numerator / denominator * definition.factor

    def grid(
        self, definition: IndicatorDef, targets: Sequence[int], periods: Sequence[Period]
    ) -> Iterator[tuple[int, int, Cell]]:
        """Every (target, period index) cell of one indicator — the same figures as
        :meth:`cell`, with each item's lookup prepared once instead of once per cell (the
        benchmark's 5,700 cells would otherwise spend more time resolving items than the
        database spends). Periods are passed around by index: a Period's hash is Python code."""
        top = self._side(definition.numerator, periods)
        bottom = self._side(definition.denominator, periods)
        factor = definition.factor
        indexes = range(len(periods))
        for target in targets:
            for index in indexes:
                n = top(target, index)
                d = bottom(target, index)
                yield target, index, (n, d, None if n is None or not d else n / d * factor)

    def _side(self, expression: Expression, periods: Sequence[Period]) -> Column:
        """A numerator or denominator as a function of (target, period index)."""
        tree = expression.tree
        if isinstance(tree, Number):  # a count's denominator, "1"
            constant = tree.value
            return lambda target, index: constant
        columns = [self._column(item, periods) for item in expression.items]
        if isinstance(tree, ItemRef) and tree.item.kind == "element":
            # A lone element: its value is the expression's (the common #{A} / #{B}).
            return columns[0]
        return lambda target, index: expression.evaluate_values(
            [column(target, index) for column in columns], SKIP
        )

    def _column(self, item: Item, periods: Sequence[Period]) -> Column:
        if item.kind == "constant":
            constant = self.plan.constants[item.code]
            return lambda target, index: constant
        if item.kind != "element":
            return lambda target, index: self.resolve(item, target, periods[index], NO_SHIFT)
        rolled = self.values.series[self.key(item)]
        shift = compose(NO_SHIFT, item)
        # -1: the shifted period leaves the calendar; no (target, -1) key exists.
        numbers = [self.window(p, shift) for p in periods]
        windows = [-1 if n is None else n for n in numbers]
        return lambda target, index: rolled.get((target, windows[index]))

    def resolve(self, item: Item, target: int, period: Period, shift: Shift) -> float | None:
        if item.kind == "constant":
            return self.plan.constants[item.code]
        inner = compose(shift, item)
        if item.kind == "indicator":
            return self.cell(self.plan.indicators[item.code], target, period, inner)[2]
        span = self.window(period, inner)
        if span is None:
            return None
        if item.kind == "element":
            return self.values.series[self.key(item)].get((target, span))
        counts = self.values.forms[item.code]
        expected = counts["expected"].get((target, span))
        if expected is None:
            return None
        actual = counts["actual"].get((target, span), 0.0)
        on_time = counts["on_time"].get((target, span), 0.0)
        return self.values.reporting.metric_value(item.option or "", expected, actual, on_time)

    def window(self, period: Period, shift: Shift) -> int | None:
        """The number of the window an item with ``shift`` reads for ``period``."""
        key = (period, shift)
        if key not in self.windows:
            span = window(period, shift)
            self.windows[key] = None if span is None else self.values.windows.number.get(span)
        return self.windows[key]

    def key(self, item: Item) -> tuple[int, str, str]:
        found = self.keys.get(item)
        if found is None:
            element = self.plan.elements[item.code]
            found = (
                element.id,
                item.option or "",
                (item.aggregation or element.aggregation).lower(),
            )
            self.keys[item] = found
        return found
