"""Creating and changing the indicator metadata: disaggregations, data elements, constants and
indicators, with every formula parsed and every code it names checked before it is stored.

Used by the API and by the configuration loader alike, so a formula refused in one is refused in
the other with the same message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from dieuhanh.core.db.base import Base
from dieuhanh.core.errors import Conflict, InvalidInput, NotFound
from dieuhanh.indicators.catalog import expression
from dieuhanh.indicators.catalog.expression import Expression, ExpressionError
from dieuhanh.indicators.catalog.form_models import ReportForm
from dieuhanh.indicators.catalog.models import (
    Constant,
    DataElement,
    DataValue,
    Disaggregation,
    DisaggregationOption,
    Indicator,
    ValueType,
)
from dieuhanh.indicators.catalog.schemas import (
    ConstantIn,
    DataElementIn,
    DisaggregationIn,
    IndicatorIn,
)

Model = TypeVar("Model", bound=Base)
KIND_NAMES = {
    "element": "data element",
    "constant": "constant",
    "indicator": "indicator",
    "reporting_rate": "report form",
}


def by_code(session: Session, model: type[Model], code: str, what: str) -> Model:
    column = model.__table__.c["code"]  # every configurable record is named by its code
    found: Model | None = session.scalars(select(model).where(column == code)).first()
    if found is None:
        raise NotFound(f"No {what} with code '{code}'.", code=f"{what.replace(' ', '_')}_not_found")
    return found


def referenced(session: Session, model: type[Model], code: str, what: str) -> Model:
    """A record a body names: unknown is invalid input (422), not a missing page (404)."""
    try:
        return by_code(session, model, code, what)
    except NotFound as exc:
        raise InvalidInput(exc.message, code=exc.code) from None


def ensure_new(session: Session, model: type[Model], code: str, what: str, path: str) -> None:
    column = model.__table__.c["code"]
    if session.scalar(select(exists().where(column == code))):
        raise Conflict(
            f"A {what} with code '{code}' exists already; PUT {path}/{code} changes it.",
            code="code_exists",
        )


@dataclass(frozen=True)
class References:
    """The codes a formula may name, loaded once for a batch of checks."""

    elements: dict[str, frozenset[str]]  # code -> its option codes
    constants: frozenset[str]
    indicators: frozenset[str]
    forms: frozenset[str]

    @classmethod
    def load(cls, session: Session) -> References:
        options: dict[int, set[str]] = {}
        for dis_id, code in session.execute(
            select(DisaggregationOption.disaggregation_id, DisaggregationOption.code)
        ):
            options.setdefault(dis_id, set()).add(code)
        elements = {
            code: frozenset(options.get(dis_id, ()) if dis_id is not None else ())
            for code, dis_id in session.execute(
                select(DataElement.code, DataElement.disaggregation_id)
            )
        }
        return cls(
            elements=elements,
            constants=frozenset(session.scalars(select(Constant.code))),
            indicators=frozenset(session.scalars(select(Indicator.code))),
            forms=frozenset(session.scalars(select(ReportForm.code))),
        )

    def known(self, item: expression.Item) -> str | None:
        """None if the item names something that exists, else why not."""
        if item.kind == "element":
            options = self.elements.get(item.code)
            if options is None:
                return f"unknown data element '{item.code}'"
            if item.option and item.option not in options:
                valid = ", ".join(sorted(options)) or "none: it is not disaggregated"
                return f"'{item.option}' is not an option of {item.code} (options: {valid})"
            return None
        pool = {
            "constant": self.constants,
            "indicator": self.indicators,
            "reporting_rate": self.forms,
        }[item.kind]
        return None if item.code in pool else f"unknown {KIND_NAMES[item.kind]} '{item.code}'"


def check_expression(text: str, field: str, owner: str, refs: References) -> Expression:
    """Parse ``text`` and check what it names; InvalidInput naming the formula and position."""
    try:
        parsed = expression.parse(text)
    except ExpressionError as exc:
        raise _formula_error(field, owner, text, exc.position, exc.message, exc.pointer()) from None
    for item in parsed.items:
        problem = refs.known(item)
        if problem is not None:
            pointer = ExpressionError(problem, item.start, text).pointer()
            raise _formula_error(field, owner, text, item.start, problem, pointer)
    return parsed


def _formula_error(
    field: str, owner: str, text: str, position: int, message: str, pointer: str
) -> InvalidInput:
    return InvalidInput(
        f"{field} of {owner}: {message} at position {position}.",
        code="invalid_expression",
        details=[
            {
                "field": field,
                "expression": text,
                "position": position,
                "message": message,
                "pointer": pointer,
            }
        ],
    )


def save_disaggregation(
    session: Session, data: DisaggregationIn, existing: Disaggregation | None = None
) -> Disaggregation:
    codes = [option.code for option in data.options]
    if len(set(codes)) != len(codes):
        raise InvalidInput(f"{data.code}: option codes repeat.", code="duplicate_option")
    item = existing or Disaggregation(code=data.code)
    item.name = data.name
    kept = {option.code: option for option in item.options}
    item.options = [
        _option(kept.get(option.code), option.code, option.name, order)
        for order, option in enumerate(data.options)
    ]
    if existing is None:
        session.add(item)
    session.flush()
    return item


def _option(
    option: DisaggregationOption | None, code: str, name: str, order: int
) -> DisaggregationOption:
    option = option or DisaggregationOption(code=code)
    option.name, option.sort_order = name, order
    return option


def save_element(
    session: Session, data: DataElementIn, existing: DataElement | None = None
) -> DataElement:
    disaggregation = None
    if data.disaggregation:
        disaggregation = referenced(session, Disaggregation, data.disaggregation, "disaggregation")
    element = existing or DataElement(code=data.code)
    if existing is not None and _has_values(session, existing):
        _keep_meaning(session, existing, data, disaggregation)
    fields = data.model_dump(exclude={"code", "disaggregation"})
    fields["value_type"] = data.value_type.value
    fields["aggregation_type"] = data.aggregation_type.value
    for key, value in fields.items():
        setattr(element, key, value)
    element.disaggregation = disaggregation
    element.disaggregation_id = disaggregation.id if disaggregation else None
    if existing is None:
        session.add(element)
    session.flush()
    return element


def _has_values(session: Session, element: DataElement) -> bool:
    return bool(session.scalar(select(exists().where(DataValue.element_id == element.id))))


def _keep_meaning(
    session: Session,
    element: DataElement,
    data: DataElementIn,
    disaggregation: Disaggregation | None,
) -> None:
    """Stored values were checked against the type and options: changing those would leave
    values that no longer fit."""
    if data.value_type.value != element.value_type and not _values_fit(
        session, element, data.value_type
    ):
        raise Conflict(
            f"{element.code} has values stored as {element.value_type}; its value type cannot "
            f"change to {data.value_type.value}. Create a new element instead.",
            code="element_has_values",
        )
    if (disaggregation.id if disaggregation else None) != element.disaggregation_id:
        raise Conflict(
            f"{element.code} has values: its disaggregation cannot change. Create a new element.",
            code="element_has_values",
        )


# A whole-number type may change to another one when no stored value breaks the new sign rule
# (a count typed ``integer`` before DHIS2's ``integer_zero_or_positive`` was offered, #10).
_SIGN_BREAKS = {
    ValueType.INTEGER: None,
    ValueType.INTEGER_ZERO_OR_POSITIVE: DataValue.numeric < 0,
    ValueType.INTEGER_POSITIVE: DataValue.numeric <= 0,
    ValueType.INTEGER_NEGATIVE: DataValue.numeric >= 0,
}


def _values_fit(session: Session, element: DataElement, new_type: ValueType) -> bool:
    if element.value_type not in _SIGN_BREAKS or new_type not in _SIGN_BREAKS:
        return False
    breaks = _SIGN_BREAKS[new_type]
    if breaks is None:
        return True
    found = select(exists().where(DataValue.element_id == element.id, breaks))
    return not session.scalar(found)


def save_constant(session: Session, data: ConstantIn, existing: Constant | None = None) -> Constant:
    constant = existing or Constant(code=data.code)
    constant.name, constant.value = data.name, data.value
    if existing is None:
        session.add(constant)
    session.flush()
    return constant


def save_indicator(
    session: Session,
    data: IndicatorIn,
    existing: Indicator | None = None,
    refs: References | None = None,
) -> Indicator:
    code = existing.code if existing else data.code or ""
    refs = refs or References.load(session)
    refs = References(refs.elements, refs.constants, refs.indicators | {code}, refs.forms)
    numerator = check_expression(data.numerator, "numerator", code, refs)
    denominator = check_expression(data.denominator, "denominator", code, refs)
    _refuse_cycles(session, code, [numerator, denominator])
    indicator = existing or Indicator(code=code)
    fields: dict[str, Any] = data.model_dump(exclude={"code", "legend"})
    fields["direction"] = data.direction.value
    for key, value in fields.items():
        setattr(indicator, key, value)
    indicator.legend = data.legend_json()
    if existing is None:
        session.add(indicator)
    session.flush()
    return indicator


def _refuse_cycles(session: Session, code: str, formulas: list[Expression]) -> None:
    definitions: dict[str, list[Expression]] = {}
    for other, numerator, denominator in session.execute(
        select(Indicator.code, Indicator.numerator, Indicator.denominator)
    ):
        if other != code:
            definitions[other] = _parsed_or_empty(numerator, denominator)
    definitions[code] = formulas
    for cycle in expression.find_cycles(definitions):
        if code in cycle:
            path = " → ".join(f"N{{{c}}}" for c in cycle)
            raise InvalidInput(
                f"{code} would depend on itself: {path}.",
                code="indicator_cycle",
                details=[{"field": "numerator", "cycle": cycle}],
            )


def _parsed_or_empty(*texts: str) -> list[Expression]:
    """Stored formulas were checked when saved; one broken by hand is left out of the graph."""
    parsed = []
    for text in texts:
        try:
            parsed.append(expression.parse(text))
        except ExpressionError:
            continue
    return parsed
