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


# One side of an indicator (numerator or denominator) for a target unit: its values over the
# requested periods, in their order.
Column = Callable[[int], list[float | None]]


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
    ) -> Iterator[tuple[int, list[float | None], list[float | None]]]:
        """Each target's numerators and denominators over ``periods`` — the figures of
        :meth:`cell` (before the factor), each item's lookup prepared once and each side made a
        whole target's row at a time: the benchmark's 5,700 cells would otherwise spend more
        time resolving items than the database spends. Periods are passed around by index: a
        Period's hash is Python code."""
        top = self._side(definition.numerator, periods)
        bottom = self._side(definition.denominator, periods)
        for target in targets:
            yield target, top(target), bottom(target)

    def _side(self, expression: Expression, periods: Sequence[Period]) -> Column:
        """A numerator or denominator as a function of the target unit."""
        tree = expression.tree
        if isinstance(tree, Number):  # a count's denominator, "1"
            constants: list[float | None] = [tree.value] * len(periods)
            return lambda target: constants
        columns = [self._column(item, periods) for item in expression.items]
        if isinstance(tree, ItemRef) and tree.item.kind == "element":
            # A lone element: its value is the expression's (the common #{A} / #{B}).
            return columns[0]
        evaluate = expression.evaluate_values
        return lambda target: [
            evaluate(values, SKIP)
            for values in zip(*[column(target) for column in columns], strict=True)
        ]

    def _column(self, item: Item, periods: Sequence[Period]) -> Column:
        if item.kind == "constant":
            constants: list[float | None] = [self.plan.constants[item.code]] * len(periods)
            return lambda target: constants
        if item.kind != "element":
            return lambda target: [
                self.resolve(item, target, period, NO_SHIFT) for period in periods
            ]
        get = self.values.series[self.key(item)].get
        shift = compose(NO_SHIFT, item)
        # -1: the shifted period leaves the calendar; no (target, -1) key exists.
        numbers = [self.window(p, shift) for p in periods]
        windows = [-1 if n is None else n for n in numbers]
        return lambda target: [get((target, window)) for window in windows]

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
