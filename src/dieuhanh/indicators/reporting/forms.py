"""Creating and changing report forms and validation rules (API and configuration files)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.errors import InvalidInput
from dieuhanh.indicators.catalog.form_models import (
    ReportForm,
    ReportFormElement,
    ReportFormUnit,
    ValidationRule,
)
from dieuhanh.indicators.catalog.metadata import References, check_expression, referenced
from dieuhanh.indicators.catalog.models import DataElement
from dieuhanh.indicators.reporting.schemas import FormIn, ValidationRuleIn
from dieuhanh.units.models import Unit
from dieuhanh.units.service import find_unit
from dieuhanh.units.types import COMMUNE_LEVEL, UnitType

# Unit selectors a form may name instead of listing 95 commune codes.
SELECTORS = ("@communes", "@departments", "@province")


def resolve_units(session: Session, specs: list[str], province_code: str) -> list[Unit]:
    """Unit codes and selectors, expanded against today's units (a commune added later is
    assigned by editing the form)."""
    found: dict[int, Unit] = {}
    unknown: list[str] = []
    for spec in specs:
        text = spec.strip()
        if text in SELECTORS:
            for unit in _selected(session, text, province_code):
                found[unit.id] = unit
            continue
        named = find_unit(session, text)
        if named is None:
            unknown.append(text)
        else:
            found[named.id] = named
    if unknown:
        raise InvalidInput(
            f"Unknown unit code(s): {', '.join(unknown[:20])}. Use unit codes or one of "
            f"{', '.join(SELECTORS)}.",
            code="unknown_unit",
        )
    return list(found.values())


def _selected(session: Session, selector: str, province_code: str) -> list[Unit]:
    province = find_unit(session, province_code)
    if province is None:
        raise InvalidInput(
            f"{selector}: province {province_code} is not loaded.", code="no_province"
        )
    if selector == "@province":
        return [province]
    types = (
        [t.value for t in COMMUNE_LEVEL] if selector == "@communes" else [UnitType.DEPARTMENT.value]
    )
    return list(
        session.scalars(select(Unit).where(Unit.parent_id == province.id, Unit.type.in_(types)))
    )


def save_form(
    session: Session, data: FormIn, province_code: str, existing: ReportForm | None = None
) -> ReportForm:
    entries = data.element_entries()
    codes = [entry.code for entry in entries]
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise InvalidInput(f"Elements listed twice: {', '.join(repeated)}.", code="duplicate")
    elements = {
        element.code: element
        for element in session.scalars(select(DataElement).where(DataElement.code.in_(codes)))
    }
    unknown = [code for code in codes if code not in elements]
    if unknown:
        raise InvalidInput(
            f"Unknown data element(s): {', '.join(unknown[:20])}.", code="unknown_element"
        )
    units = resolve_units(session, data.units, province_code)
    form = existing or ReportForm(code=data.code)
    fields = data.model_dump(exclude={"code", "elements", "units"})
    fields["period_type"] = data.period_type.value
    for key, value in fields.items():
        setattr(form, key, value)
    kept_elements = {item.element_id: item for item in form.elements}
    form.elements = [
        _form_element(kept_elements.get(elements[e.code].id), elements[e.code], e.section, order)
        for order, e in enumerate(entries)
    ]
    kept_units = {item.unit_id: item for item in form.units}
    form.units = [kept_units.get(unit.id) or ReportFormUnit(unit_id=unit.id) for unit in units]
    if existing is None:
        session.add(form)
    session.flush()
    return form


def _form_element(
    item: ReportFormElement | None, element: DataElement, section: str | None, order: int
) -> ReportFormElement:
    item = item or ReportFormElement(element_id=element.id, element=element)
    item.section, item.sort_order = section, order
    return item


def save_validation_rule(
    session: Session,
    data: ValidationRuleIn,
    existing: ValidationRule | None = None,
    refs: References | None = None,
) -> ValidationRule:
    """Stored after both sides parse and name known codes; reporting.validation evaluates."""
    code = existing.code if existing else data.code or ""
    refs = refs or References.load(session)
    check_expression(data.left, "left", code, refs)
    check_expression(data.right, "right", code, refs)
    form = referenced(session, ReportForm, data.form, "report form") if data.form else None
    rule = existing or ValidationRule(code=code)
    fields = data.model_dump(exclude={"code", "form"})
    fields["operator"] = data.operator.value
    fields["missing_value_strategy"] = data.missing_value_strategy.value
    fields["importance"] = data.importance.value
    fields["period_type"] = data.period_type.value if data.period_type else None
    for key, value in fields.items():
        setattr(rule, key, value)
    rule.form_id = form.id if form else None
    if existing is None:
        session.add(rule)
    session.flush()
    return rule
