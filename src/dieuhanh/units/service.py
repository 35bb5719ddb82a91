"""Reading and changing units: lookup by code, the tree, names over time, the unit profile."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from dieuhanh.core.errors import InvalidInput, NotFound
from dieuhanh.core.text import canonical_spelling, name_key
from dieuhanh.units.models import Unit, UnitName
from dieuhanh.units.types import ADMINISTRATIVE, PREFIX_BY_TYPE, UnitType

PROFILE_FIELDS = {"address": 300, "phone": 40, "email": 120, "website": 200}


def province_code(code: int | str) -> str:
    """Official province codes have 2 digits ("01" Hà Nội, "75" Đồng Nai)."""
    return str(int(code)).zfill(2)


def commune_code(code: int | str) -> str:
    """Official commune/ward codes have 5 digits ("00070", "26368")."""
    return str(int(code)).zfill(5)


def canonical_code(code: str | int) -> str:
    """A code as written in files and URLs, put in its stored form.

    Digits of length 3 to 5 are a commune/ward's, 1 or 2 a province's; other codes (departments)
    are upper-cased. A commune code written without its zeros ("70" for "00070") is resolved by
    find_unit, which tries both readings.
    """
    text = str(code).strip()
    if text.isdigit():
        return province_code(text) if len(text) <= 2 else commune_code(text)
    return text.upper()


def find_unit(session: Session, code: str | int) -> Unit | None:
    text = str(code).strip()
    candidates = [text, canonical_code(text)]
    if text.isdigit() and len(text) <= 5:
        candidates.append(commune_code(text))
    for candidate in dict.fromkeys(candidates):
        unit = session.scalar(select(Unit).where(Unit.code == candidate))
        if unit is not None:
            return unit
    return None


def get_unit(session: Session, code: str | int) -> Unit:
    unit = find_unit(session, code)
    if unit is None:
        raise NotFound(f"No unit with code '{code}'.", code="unit_not_found")
    return unit


def get_unit_detail(session: Session, code: str | int) -> Unit:
    """The unit with its name history and aliases loaded, for pages and the API."""
    unit = get_unit(session, code)
    return session.scalars(
        select(Unit)
        .where(Unit.id == unit.id)
        .options(selectinload(Unit.names), selectinload(Unit.aliases))
    ).one()


def children(session: Session, parent: Unit, types: Iterable[UnitType] | None = None) -> list[Unit]:
    wanted = [t.value for t in (types or ADMINISTRATIVE)]
    return list(
        session.scalars(
            select(Unit)
            .where(Unit.parent_id == parent.id, Unit.type.in_(wanted))
            .options(selectinload(Unit.names))
            .order_by(Unit.name_key)
        )
    )


def count_children(session: Session, parent: Unit) -> dict[str, int]:
    rows = session.execute(
        select(Unit.type, func.count()).where(Unit.parent_id == parent.id).group_by(Unit.type)
    )
    return {unit_type: count for unit_type, count in rows}


def subtree_ids(session: Session, unit: Unit) -> frozenset[int] | None:
    """The unit and everything below it; None for a province, meaning "everything"."""
    if UnitType(unit.type).is_province_level:
        return None
    ids = {unit.id}
    frontier = [unit.id]
    while frontier:
        frontier = list(session.scalars(select(Unit.id).where(Unit.parent_id.in_(frontier))))
        ids.update(frontier)
    return frozenset(ids)


def name_as_of(unit: Unit, day: date) -> UnitName | None:
    for entry in unit.names:
        if (entry.valid_from is None or entry.valid_from <= day) and (
            entry.valid_to is None or day < entry.valid_to
        ):
            return entry
    return None


def full_name(base: str, unit_type: UnitType) -> str:
    prefix = PREFIX_BY_TYPE.get(unit_type)
    return f"{prefix} {base}" if prefix else base


def rename_unit(
    session: Session,
    unit: Unit,
    new_name: str,
    effective: date,
    *,
    new_type: UnitType | None = None,
    note: str | None = None,
) -> UnitName:
    """Give a unit a new name (and possibly type) from ``effective``; the old name is kept.

    The unit keeps its id and code, so everything recorded under the old name stays attached.
    """
    new_name = canonical_spelling(new_name.strip())
    if not new_name or len(new_name) > 200:
        raise InvalidInput("A unit name must have 1 to 200 characters.", code="invalid_name")
    new_type = new_type or UnitType(unit.type)
    current = next((entry for entry in unit.names if entry.valid_to is None), None)
    if current is not None:
        if current.valid_from is not None and effective <= current.valid_from:
            raise InvalidInput(
                f"The new name must take effect after {current.valid_from.isoformat()}, when "
                f"the current name '{current.name}' took effect.",
                code="invalid_effective_date",
            )
        current.valid_to = effective
    entry = UnitName(
        name=new_name,
        type=new_type.value,
        name_key=name_key(new_name),
        valid_from=effective,
        note=note,
    )
    unit.names.append(entry)
    unit.name = new_name
    unit.type = new_type.value
    unit.name_key = entry.name_key
    return entry


def update_profile(unit: Unit, changes: dict[str, str | None]) -> None:
    for key, value in changes.items():
        if key not in PROFILE_FIELDS:
            raise InvalidInput(f"'{key}' is not an editable field of a unit.", code="unknown_field")
        if value is not None:
            value = value.strip() or None
        if value is not None and len(value) > PROFILE_FIELDS[key]:
            raise InvalidInput(
                f"{key} is too long: {len(value)} characters, at most {PROFILE_FIELDS[key]}.",
                code="field_too_long",
            )
        setattr(unit, key, value)
