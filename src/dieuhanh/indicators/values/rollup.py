"""Element values rolled up the unit tree and over periods, read from data_values at query time.

Analytics are "always current" (issue 5): there is no batch table to refresh, so every figure is
computed from the stored values when it is asked for. What makes that fast enough (the benchmark:
95 communes × 60 months over 20 million values) is the shape of the work:

1. one SQL query for all the elements a request needs, restricted by ``element_id IN (…)`` and a
   ``period_start`` range (the leading columns of uq_data_values_key) and by the units
   below the requested ones, returning one row per unit and stored period with one
   ``SUM(CASE WHEN element_id = … THEN numeric END)`` column per element or option — the rows a
   hand-written pivot returns;
2. the roll-up to the requested units (ancestors) and the requested, coarser periods happens in
   Python over that result, following each element's aggregation type.

The alternative, grouping by requested unit in SQL through a unit → requested-unit mapping (a
VALUES join), was measured on 20 M values (an early version of bench/indicators.py). At commune
level (the benchmark) it returns the same rows and gains nothing (PostgreSQL 59 ms against 61 ms
for the plain aggregate; SQLite 274 ms against 171 ms, the join costs). At province level it
returns one row per period instead of one per unit and period, and on PostgreSQL it is faster (45
ms of fetching against about 60-115 ms for the whole query here). It was not adopted because one
such query serves one set of requested units and one aggregation type, while a request mixes units
and their parents, and ``average`` and ``last`` need each unit's own values anyway; a province-only
SUM shortcut is a possible later optimisation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Executable,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from dieuhanh.indicators.catalog.form_models import Approval, ReportForm, ReportFormElement
from dieuhanh.indicators.catalog.models import AggregationType, DataValue
from dieuhanh.units.models import Unit

# An inclusive date range [start, end]: a requested period, shifted or widened by modifiers.
Window = tuple[date, date]
# A stored value's place: (unit id, period start, period end).
Cell = tuple[int, date, date]
# An element's values, or one option's ("" = all options added together).
SeriesKey = tuple[int, str]
# A series rolled up: (target unit id, window number) → value.
Rolled = dict[tuple[int, int], float]


@dataclass(frozen=True)
class TreeUnit:
    id: int
    code: str
    name: str
    type: str
    parent_id: int | None


@dataclass(frozen=True)
class UnitTree:
    """The requested ("target") units and, for every unit below them, the targets it counts for.

    ``members[u]`` lists the targets whose subtree holds unit ``u`` (usually one; two when both a
    unit and its parent are asked for).
    """

    targets: dict[int, TreeUnit]
    members: dict[int, tuple[int, ...]]
    units: dict[int, TreeUnit] = field(default_factory=dict)

    @property
    def unit_ids(self) -> frozenset[int]:
        return frozenset(self.members)


def load_tree(session: Session, targets: Iterable[TreeUnit], *, own_only: bool = False) -> UnitTree:
    """The targets' subtrees, loaded level by level (the tree is 2-3 levels deep).

    ``own_only``: each target stands for itself only (validation at entry checks a unit's own
    values, not its subtree's).
    """
    wanted = {unit.id: unit for unit in targets}
    units = dict(wanted)
    if not own_only:
        frontier = set(wanted)
        while frontier:
            children = session.execute(
                select(Unit.id, Unit.code, Unit.name, Unit.type, Unit.parent_id).where(
                    in_ids(Unit.parent_id, frontier)
                )
            ).all()
            fresh = [TreeUnit(*row) for row in children if row.id not in units]
            units.update((unit.id, unit) for unit in fresh)
            frontier = {unit.id for unit in fresh}
    members: dict[int, tuple[int, ...]] = {}
    for unit_id in units:
        chain, current = [], units.get(unit_id)
        while current is not None:
            if current.id in wanted:
                chain.append(current.id)
            if own_only:
                break
            current = units.get(current.parent_id) if current.parent_id is not None else None
        members[unit_id] = tuple(chain)
    return UnitTree(targets=wanted, members=members, units=units)


def in_ids(column: InstrumentedAttribute[Any], ids: Iterable[int]) -> ColumnElement[bool]:
    """``column IN (…ids)`` with the ids written into the statement rather than bound one by
    one: a query at commune level names 95 units, and 95 bound parameters cost SQLAlchemy and
    psycopg about 0.45 ms a query, a tenth of the database's own time on the benchmark's
    figures. Integers only, so nothing needs quoting; the statement is still cached compiled."""
    return column.in_(bindparam(None, sorted(ids), expanding=True, literal_execute=True))


class WindowIndex:
    """The requested windows, numbered, and which of them a stored period falls inside
    (computed once per stored period). Results are keyed by (unit id, window number): two
    small ints hash much faster than a tuple of dates, in loops run once per value."""

    def __init__(self, windows: Iterable[Window]) -> None:
        self.windows = sorted(set(windows))
        self.number = {window: index for index, window in enumerate(self.windows)}
        self.cache: dict[tuple[date, date], tuple[int, ...]] = {}

    @property
    def first(self) -> date:
        return min(start for start, _ in self.windows)

    @property
    def last(self) -> date:
        return max(end for _, end in self.windows)

    def containing(self, start: date, end: date) -> tuple[int, ...]:
        key = (start, end)
        found = self.cache.get(key)
        if found is None:
            found = tuple(
                i for i, (first, last) in enumerate(self.windows) if first <= start and end <= last
            )
            self.cache[key] = found
        return found


@dataclass(frozen=True)
class FetchRequest:
    # The element totals (option "") and single options to read, one result column each.
    series: tuple[SeriesKey, ...]
    unit_ids: frozenset[int]
    first: date
    last: date
    # Leave out values of forms that hide unapproved data, unless approved (issue 5, part 3).
    approved_only: bool = False


# (unit id, period start, period end, sum of series 0, sum of series 1, …); None: no value.
Row = tuple[Any, ...]
FIRST_SERIES = 3


def fetch(session: Session, request: FetchRequest) -> list[Row]:
    """The stored numbers summed per unit and stored period, one column per series — the same
    shape as a hand-written pivot (``SUM(CASE WHEN element_id = … THEN numeric END)``), so the
    database returns one row per unit and period whatever the number of series.

    Only values lying wholly inside [first, last] count: a quarterly value is not part of the
    month it starts in. Text values (``numeric`` NULL) never count.
    """
    if not request.series or not request.unit_ids:
        return []
    dv = DataValue
    element_ids = sorted({element_id for element_id, _ in request.series})
    if len(request.series) == 1 and not request.series[0][1]:
        sums = [func.sum(dv.numeric)]
    else:
        sums = [
            func.sum(
                case(
                    (
                        and_(dv.element_id == element_id, dv.option == option)
                        if option
                        else dv.element_id == element_id,
                        dv.numeric,
                    )
                )
            )
            for element_id, option in request.series
        ]
    keys = [dv.unit_id, dv.period_start, dv.period_end]
    statement: Select[Any] = (
        select(dv.unit_id, dv.period_start, dv.period_end, *sums)  # type: ignore[assignment]
        .where(
            in_ids(dv.element_id, element_ids),
            dv.period_start >= request.first,
            dv.period_start <= request.last,
            dv.period_end <= request.last,
            in_ids(dv.unit_id, request.unit_ids),
            dv.numeric.is_not(None),
        )
        .group_by(*keys)
    )
    options = {option for _, option in request.series}
    if "" not in options:
        # Only single options are asked for: the others' rows would add nothing but NULLs, and
        # leaving them in the index scan is what made the per-option query 1.5x the pivot.
        statement = statement.where(dv.option.in_(sorted(options)))
    if request.approved_only:
        statement = _only_approved(session, statement, frozenset(element_ids))
    return driver_rows(session, statement, dates=(1, 2))


def driver_rows(
    session: Session, statement: Executable, dates: Sequence[int] = ()
) -> list[tuple[Any, ...]]:
    """All the rows of ``statement`` at once, as the driver's own tuples: the ORM's per-row
    result machinery costs more than the query itself here, and even Core's Row per row cost
    1.3 ms of the benchmark's 9 ms fetch (95 communes × 60 months). So no result processor
    runs: the columns at ``dates`` are made dates here, SQLite's text parsed once per distinct
    day rather than once per row; other columns must need none (ids, numbers, text)."""
    result = session.connection().execute(statement)
    try:
        rows = cast(list[tuple[Any, ...]], result.cursor.fetchall())
    finally:
        result.close()
    if not rows or not dates or not isinstance(rows[0][dates[0]], str):
        return rows  # PostgreSQL's driver gives dates already
    days: dict[str, date] = {}
    converted = []
    for row in rows:
        cells = list(row)
        for index in dates:
            text = cells[index]
            cells[index] = days.get(text) or days.setdefault(text, date.fromisoformat(text))
        converted.append(tuple(cells))
    return converted


def _only_approved(
    session: Session, statement: Select[Any], element_ids: frozenset[int]
) -> Select[Any]:
    gated = session.execute(
        select(ReportFormElement.form_id, ReportFormElement.element_id)
        .join(ReportForm, ReportForm.id == ReportFormElement.form_id)
        .where(ReportForm.hide_unapproved, ReportFormElement.element_id.in_(sorted(element_ids)))
    ).all()
    if not gated:
        return statement
    form_ids = sorted({form_id for form_id, _ in gated})
    approved = exists().where(
        Approval.form_id.in_(form_ids),
        ReportFormElement.form_id == Approval.form_id,
        ReportFormElement.element_id == DataValue.element_id,
        Approval.unit_id == DataValue.unit_id,
        Approval.period_code == DataValue.period_code,
    )
    gated_elements = sorted({element_id for _, element_id in gated})
    return statement.where(or_(DataValue.element_id.not_in(gated_elements), approved))


def roll_up(
    rows: list[Row], column: int, tree: UnitTree, windows: WindowIndex, aggregation: str
) -> Rolled:
    """One series (``column`` of the fetched rows) per (target unit, window), by the element's
    aggregation type.

    - sum: added over units and periods;
    - average: the per-period total over units, averaged over the periods that have data
      (DHIS2's AVERAGE_SUM_ORG_UNIT: a stock figure such as "schools" is added across communes
      but averaged across months);
    - last: each unit's latest value inside the window, added over units (DHIS2's LAST);
    - min / max: over every unit and period inside the window.
    A (target, window) without any value is absent: missing, not zero.
    """
    if aggregation == AggregationType.SUM:
        return _sum(rows, column, tree, windows)
    cells = {(r[0], r[1], r[2]): r[column] for r in rows if r[column] is not None}
    if aggregation == AggregationType.AVERAGE:
        return _average(cells, tree, windows)
    if aggregation == AggregationType.LAST:
        return _last(cells, tree, windows)
    if aggregation in (AggregationType.MIN, AggregationType.MAX):
        return _extreme(cells, tree, windows, min if aggregation == AggregationType.MIN else max)
    raise ValueError(f"unknown aggregation type {aggregation!r}")


def roll_up_sums(
    rows: list[Row], columns: Sequence[int], tree: UnitTree, windows: WindowIndex
) -> list[Rolled]:
    """:func:`roll_up` of several summed series at once: the unit's targets and the period's
    windows are looked up once per row, not once per row and series."""
    outs: list[Rolled] = [{} for _ in columns]
    pairs = list(zip(columns, outs, strict=True))
    members, cache, containing = tree.members, windows.cache, windows.containing
    for row in rows:
        targets = members.get(row[0])
        if not targets:
            continue
        found = cache.get((row[1], row[2]))
        if found is None:
            found = containing(row[1], row[2])
        if len(found) == 1 and len(targets) == 1:
            # The usual row: one unit asked for itself, one period inside one window. Without
            # the list of keys and its loop, the roll-up of 5,700 rows takes a third less.
            key = (targets[0], found[0])
            for column, out in pairs:
                value = row[column]
                if value is not None:
                    if key in out:
                        out[key] += value
                    else:
                        out[key] = value
            continue
        keys = [(target, window) for window in found for target in targets]
        for column, out in pairs:
            value = row[column]
            if value is not None:
                for key in keys:
                    out[key] = out.get(key, 0.0) + value
    return outs


def _placements(
    cells: dict[Cell, float], tree: UnitTree, windows: WindowIndex
) -> Iterable[tuple[int, int, Cell, float]]:
    members = tree.members
    for cell, value in cells.items():
        targets = members.get(cell[0])
        if not targets:
            continue
        for window in windows.containing(cell[1], cell[2]):
            for target in targets:
                yield target, window, cell, value


def _sum(rows: list[Row], column: int, tree: UnitTree, windows: WindowIndex) -> Rolled:
    # The hot loop of every indicator query: kept flat, without the generator above.
    out: Rolled = {}
    members, containing = tree.members, windows.containing
    for row in rows:
        value = row[column]
        if value is None:
            continue
        unit_id, start, end = row[0], row[1], row[2]
        targets = members.get(unit_id)
        if not targets:
            continue
        for window in containing(start, end):
            for target in targets:
                key = (target, window)
                out[key] = out.get(key, 0.0) + value
    return out


def _average(cells: dict[Cell, float], tree: UnitTree, windows: WindowIndex) -> Rolled:
    per_period: dict[tuple[int, int], dict[tuple[date, date], float]] = defaultdict(dict)
    for target, window, (_, start, end), value in _placements(cells, tree, windows):
        totals = per_period[(target, window)]
        totals[(start, end)] = totals.get((start, end), 0.0) + value
    return {key: sum(totals.values()) / len(totals) for key, totals in per_period.items()}


def _last(cells: dict[Cell, float], tree: UnitTree, windows: WindowIndex) -> Rolled:
    latest: dict[tuple[int, int], dict[int, tuple[date, date, float]]] = defaultdict(dict)
    for target, window, (unit_id, start, end), value in _placements(cells, tree, windows):
        by_unit = latest[(target, window)]
        seen = by_unit.get(unit_id)
        if seen is None or (end, start) > (seen[1], seen[0]):
            by_unit[unit_id] = (start, end, value)
    return {key: sum(v for _, _, v in by_unit.values()) for key, by_unit in latest.items()}


def _extreme(
    cells: dict[Cell, float],
    tree: UnitTree,
    windows: WindowIndex,
    pick: Callable[[float, float], float],
) -> Rolled:
    out: Rolled = {}
    for target, window, _, value in _placements(cells, tree, windows):
        key = (target, window)
        out[key] = pick(out[key], value) if key in out else value
    return out
