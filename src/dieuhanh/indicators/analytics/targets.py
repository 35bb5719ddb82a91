"""Which units an analytics request is about: codes, or a level under a parent, within a scope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.access import Scope
from dieuhanh.core.errors import Forbidden, InvalidInput
from dieuhanh.indicators.values.rollup import TreeUnit
from dieuhanh.units.models import Unit
from dieuhanh.units.service import find_unit
from dieuhanh.units.types import COMMUNE_LEVEL, UnitType

Level = Literal["province", "commune", "department"]
LEVELS: tuple[Level, ...] = ("province", "commune", "department")
_LEVEL_TYPES: dict[str, tuple[str, ...]] = {
    "commune": tuple(t.value for t in COMMUNE_LEVEL),
    "department": (UnitType.DEPARTMENT.value,),
}


def tree_unit(unit: Unit) -> TreeUnit:
    return TreeUnit(unit.id, unit.code, unit.name, unit.type, unit.parent_id)


def unit_by_code(session: Session, code: str) -> Unit:
    unit = find_unit(session, code)
    if unit is None:
        raise InvalidInput(f"Unknown unit code '{code}'.", code="unknown_unit")
    return unit


def resolve_targets(
    session: Session,
    *,
    units: Sequence[str] | None,
    level: str | None,
    parent: str | None,
    scope: Scope,
) -> list[TreeUnit]:
    """The requested units, in request order then name order, without duplicates.

    ``units``: codes, each must be within ``scope`` (else Forbidden). ``level``: the province
    itself, its communes/wards, or its departments, under ``parent`` (a province code); the
    level's units outside ``scope`` are left out, so a commune officer asking for every commune
    gets its own.
    """
    found: dict[int, TreeUnit] = {}
    codes = list(units or ())
    # Codes as stored in one query; only a code written otherwise (without its leading zeros)
    # is looked up on its own. The forecasts ask for a province's 113 units at once, month
    # after month: one query each cost more than the analysis itself.
    exact = (
        {unit.code: unit for unit in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
        if codes
        else {}
    )
    for code in codes:
        unit = exact.get(code) or unit_by_code(session, code)
        if not scope.allows(unit.id):
            raise Forbidden(
                f"Unit {unit.name} ({unit.code}) is outside the units you may see.",
                code="out_of_scope",
            )
        found.setdefault(unit.id, tree_unit(unit))
    if level is not None:
        for member in level_units(session, level, parent):
            if scope.allows(member.id):
                found.setdefault(member.id, member)
    if not units and level is None:
        raise InvalidInput("Give unit codes or a level (province, commune, department).")
    return list(found.values())


def level_units(session: Session, level: str, parent: str | None) -> list[TreeUnit]:
    if level not in LEVELS:
        raise InvalidInput(
            f"Unknown level '{level}'; use one of {', '.join(LEVELS)}.", code="invalid_level"
        )
    if parent is None:
        raise InvalidInput(f"level={level} needs a parent unit (a province code).")
    top = unit_by_code(session, parent)
    if level == "province":
        return [tree_unit(top)]
    rows = session.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.type, Unit.parent_id)
        .where(Unit.parent_id == top.id, Unit.type.in_(_LEVEL_TYPES[level]))
        .order_by(Unit.name_key)
    )
    return [TreeUnit(*row) for row in rows]
