"""What an analytics request needs before any value is read: the indicators (and those they
reference through N{…}), parsed once, the elements, options, constants and forms their items name,
and every period shift the items ask for.

All of it is checked up front, so a bad formula or an unknown code fails the request with a
message naming the indicator, the code and the position, before the database does any work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.errors import InvalidInput
from dieuhanh.indicators.catalog.expression import Expression, ExpressionError, Item, parse
from dieuhanh.indicators.catalog.form_models import ReportForm
from dieuhanh.indicators.catalog.models import (
    Constant,
    DataElement,
    DisaggregationOption,
    Indicator,
)
from dieuhanh.indicators.catalog.periods import Period, PeriodError

# How an item's period relates to the requested one: (periodOffset, yearToDate). Offsets of
# nested N{…} references add up; yearToDate anywhere on the way applies.
Shift = tuple[int, bool]
NO_SHIFT: Shift = (0, False)


def compose(outer: Shift, item: Item) -> Shift:
    return (outer[0] + item.period_offset, outer[1] or item.year_to_date)


def window(period: Period, shift: Shift) -> tuple[date, date] | None:
    """The dates an item covers for ``period``: shifted by whole periods of its type, then
    widened to the year's start for yearToDate. None when the shift leaves the calendar."""
    try:
        base = period.offset(shift[0]) if shift[0] else period
    except PeriodError:
        return None
    return (date(base.start.year, 1, 1), base.end) if shift[1] else (base.start, base.end)


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    name: str
    numerator: Expression
    denominator: Expression
    factor: float
    decimals: int
    legend: list[dict[str, Any]] | None
    row: Indicator


@dataclass(frozen=True)
class ElementDef:
    id: int
    code: str
    name: str
    aggregation: str
    options: tuple[str, ...]


@dataclass
class Plan:
    indicators: dict[str, IndicatorDef] = field(default_factory=dict)
    elements: dict[str, ElementDef] = field(default_factory=dict)
    constants: dict[str, float] = field(default_factory=dict)
    forms: dict[str, ReportForm] = field(default_factory=dict)
    # (element id, option or "", aggregation) → the shifts it is read with.
    series: dict[tuple[int, str, str], set[Shift]] = field(default_factory=dict)
    # Form code → the shifts its reporting rates are read with.
    form_shifts: dict[str, set[Shift]] = field(default_factory=dict)

    def windows(self, periods: Sequence[Period]) -> set[tuple[date, date]]:
        shifts = {s for found in (*self.series.values(), *self.form_shifts.values()) for s in found}
        return {w for p in periods for s in shifts if (w := window(p, s)) is not None}


def plan_indicators(session: Session, codes: Sequence[str]) -> Plan:
    """Load and check ``codes`` and everything they reference; raise InvalidInput on the first
    unknown code, syntax error or cycle."""
    plan = Plan()
    _load_indicators(session, plan, codes)
    for code in codes:
        _walk(plan, code, NO_SHIFT, ())
    owners = [(f"Indicator {d.code}", _items(d)) for d in plan.indicators.values()]
    _load_items(session, plan, owners)
    for code in codes:
        _collect(plan, _items(plan.indicators[code]), NO_SHIFT)
    return plan


def plan_expressions(session: Session, owners: Sequence[tuple[str, Sequence[Expression]]]) -> Plan:
    """A plan for free-standing expressions (validation rules): ``owners`` are (label, its
    expressions); the label names the owner in errors. N{…} is refused: a rule checks data."""
    listed = [(label, [i for e in expressions for i in e.items]) for label, expressions in owners]
    for label, items in listed:
        if any(item.kind == "indicator" for item in items):
            raise InvalidInput(
                f"{label}: indicators (N{{…}}) cannot be used here; use data elements.",
                code="indicator_not_allowed",
            )
    plan = Plan()
    _load_items(session, plan, listed)
    for _, items in listed:
        _collect(plan, items, NO_SHIFT)
    return plan


@lru_cache(maxsize=2048)
def _parsed(text: str) -> Expression:
    # Formulas change rarely and are read on every query; an Expression is never mutated.
    return parse(text)


def parse_formula(text: str, what: str) -> Expression:
    try:
        return _parsed(text)
    except ExpressionError as exc:
        raise InvalidInput(
            f"{what}: {exc.message} at position {exc.position}: {exc.pointer()}",
            code="invalid_expression",
            details=[{"field": what, "position": exc.position, "message": exc.message}],
        ) from None


def _load_indicators(session: Session, plan: Plan, codes: Iterable[str]) -> None:
    wanted = set(codes) - set(plan.indicators)
    while wanted:
        rows = session.scalars(select(Indicator).where(Indicator.code.in_(sorted(wanted)))).all()
        unknown = wanted - {row.code for row in rows}
        if unknown:
            raise InvalidInput(
                f"Unknown indicator code(s): {', '.join(sorted(unknown))}.",
                code="unknown_indicator",
            )
        for row in rows:
            plan.indicators[row.code] = IndicatorDef(
                code=row.code,
                name=row.name,
                numerator=parse_formula(row.numerator, f"{row.code} numerator"),
                denominator=parse_formula(row.denominator or "1", f"{row.code} denominator"),
                factor=row.factor,
                decimals=row.decimals,
                legend=row.legend,
                row=row,
            )
        wanted = {
            item.code
            for row in rows
            for item in _items(plan.indicators[row.code])
            if item.kind == "indicator"
        } - set(plan.indicators)


def _items(definition: IndicatorDef) -> list[Item]:
    return [*definition.numerator.items, *definition.denominator.items]


def _walk(plan: Plan, code: str, shift: Shift, path: tuple[str, ...]) -> None:
    """Refuse a cycle of N{…} references (A uses B uses A) with the whole path in the message."""
    if code in path:
        cycle = " → ".join((*path[path.index(code) :], code))
        raise InvalidInput(f"Indicator cycle: {cycle}.", code="indicator_cycle")
    for item in _items(plan.indicators[code]):
        if item.kind == "indicator":
            _walk(plan, item.code, compose(shift, item), (*path, code))


def _load_items(session: Session, plan: Plan, owners: list[tuple[str, list[Item]]]) -> None:
    items = [item for _, found in owners for item in found]
    names = {kind: {i.code for i in items if i.kind == kind} for kind in ("element", "constant")}
    forms = {i.code for i in items if i.kind == "reporting_rate"}
    # Each lookup only when some item needs it: a query costs about as much as a whole
    # commune's roll-up.
    if names["element"]:
        plan.elements.update(load_elements(session, names["element"]))
    if names["constant"]:
        constants = session.execute(
            select(Constant.code, Constant.value).where(
                Constant.code.in_(sorted(names["constant"]))
            )
        ).all()
        plan.constants.update((code, value) for code, value in constants)
    if forms:
        for form in session.scalars(select(ReportForm).where(ReportForm.code.in_(sorted(forms)))):
            plan.forms[form.code] = form
    for kind, known, label in (
        ("element", plan.elements, "data element"),
        ("constant", plan.constants, "constant"),
        ("reporting_rate", plan.forms, "report form"),
    ):
        _refuse_unknown(owners, kind, known, label)
    for owner, found in owners:
        for item in found:
            if item.kind == "element" and item.option is not None:
                _check_option(plan.elements[item.code], item, owner)


def load_elements(session: Session, codes: Iterable[str]) -> dict[str, ElementDef]:
    """The elements with these codes and their option codes, in one light query (an element
    row per option, joined; one query less is 0.3 ms of an analytics request)."""
    rows = session.execute(
        select(
            DataElement.id,
            DataElement.code,
            DataElement.name,
            DataElement.aggregation_type,
            DisaggregationOption.code,
        )
        .outerjoin(
            DisaggregationOption,
            DisaggregationOption.disaggregation_id == DataElement.disaggregation_id,
        )
        .where(DataElement.code.in_(sorted(set(codes))))
        .order_by(DataElement.id, DisaggregationOption.sort_order, DisaggregationOption.id)
    ).all()
    found: dict[str, tuple[int, str, str, list[str]]] = {}
    for element_id, code, name, aggregation, option in rows:
        options = found.setdefault(code, (element_id, name, aggregation, []))[3]
        if option is not None:
            options.append(option)
    return {
        code: ElementDef(element_id, code, name, aggregation, tuple(options))
        for code, (element_id, name, aggregation, options) in found.items()
    }


def _refuse_unknown(
    owners: list[tuple[str, list[Item]]], kind: str, known: dict[str, Any], label: str
) -> None:
    for owner, found in owners:
        missing = sorted({i.code for i in found if i.kind == kind} - set(known))
        if missing:
            raise InvalidInput(
                f"{owner} uses unknown {label} code(s): {', '.join(missing)}.",
                code=f"unknown_{label.replace(' ', '_')}",
            )


def _check_option(element: ElementDef, item: Item, owner: str) -> None:
    if item.option in element.options:
        return
    valid = ", ".join(element.options) or "none: it is not disaggregated"
    raise InvalidInput(
        f"{owner}: {item.option} is not an option of {element.code} (options: {valid}).",
        code="unknown_option",
    )


def _collect(plan: Plan, items: Sequence[Item], shift: Shift) -> None:
    for item in items:
        inner = compose(shift, item)
        if item.kind == "element":
            element = plan.elements[item.code]
            aggregation = (item.aggregation or element.aggregation).lower()
            key = (element.id, item.option or "", aggregation)
            plan.series.setdefault(key, set()).add(inner)
        elif item.kind == "reporting_rate":
            plan.form_shifts.setdefault(item.code, set()).add(inner)
        elif item.kind == "indicator":
            _collect(plan, _items(plan.indicators[item.code]), inner)


def element_items(
    session: Session, codes: Sequence[str]
) -> tuple[Plan, list[tuple[str, str, tuple[int, str, str]]]]:
    """A plan reading raw elements: ``CODE`` (all options) or ``CODE.OPTION``, unshifted, each
    by its own aggregation type; and (code, option, series key) per requested code."""
    if not codes:
        raise InvalidInput("Give at least one data element code.", code="missing_element")
    parsed = [(text.strip().partition(".")[0], text.strip().partition(".")[2]) for text in codes]
    plan = Plan(elements=load_elements(session, (c for c, _ in parsed)))
    unknown = sorted({c for c, _ in parsed} - set(plan.elements))
    if unknown:
        raise InvalidInput(
            f"Unknown data element code(s): {', '.join(unknown)}.", code="unknown_data_element"
        )
    wanted = []
    for code, option in dict.fromkeys(parsed):
        element = plan.elements[code]
        if option:
            _check_option(element, Item("element", code, option), "The request")
        key = (element.id, option, element.aggregation)
        plan.series.setdefault(key, set()).add(NO_SHIFT)
        wanted.append((code, option, key))
    return plan, wanted
