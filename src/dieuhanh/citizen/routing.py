"""Where a report belongs: the commune or ward containing its point (the imported boundaries), or
the one its address names (today's names and the names units carried before the 2025 merger),
or the department its category names. A point near a border also lists the neighbouring units
within ``NEAR_METERS``, so staff can transfer it with a reason instead of losing it between two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.text import canonical_spelling, fold
from dieuhanh.gis.service import nearby
from dieuhanh.units.models import Unit, UnitName
from dieuhanh.units.service import find_unit
from dieuhanh.units.types import COMMUNE_LEVEL

NEAR_METERS = 150.0


@dataclass
class Placement:
    unit: Unit
    located_by: str  # point, address, category
    neighbours: list[Unit] = field(default_factory=list)


def place(
    session: Session,
    province: Unit,
    *,
    handled_by: str,
    department_code: str | None,
    lat: float | None,
    lon: float | None,
    address: str | None,
    unit_code: str | None = None,
) -> Placement:
    if unit_code:  # placed by the system it came from
        unit = find_unit(session, unit_code)
        if unit is None:
            raise InvalidInput(f"Unknown unit '{unit_code[:32]}'.", code="unknown_unit")
        return Placement(unit, "source")
    if handled_by == "department" and department_code:
        department = find_unit(session, department_code)
        if department is None:
            raise InvalidInput(
                f"The category names department {department_code}, which does not exist.",
                code="unknown_department",
            )
        return Placement(department, "category")
    if lat is not None and lon is not None:
        # One read of the boundaries around the point: the one containing it is at distance 0.
        close = nearby(session, lon, lat, province, NEAR_METERS)
        if not close or close[0][1] > 0:
            raise InvalidInput(
                f"The point ({lat:.5f}, {lon:.5f}) is outside {province.name}: reports are "
                "taken for places in the province.",
                code="outside_province",
            )
        unit = close[0][0]
        return Placement(unit, "point", [other for other, _ in close[1:]])
    if address and address.strip():
        return Placement(unit_by_address(session, province, address), "address")
    raise InvalidInput(
        "Give the place: a point (lat, long) or an address naming the commune or ward.",
        code="missing_location",
    )


def unit_by_address(session: Session, province: Unit, address: str) -> Unit:
    """The commune or ward an address names, by its current or a former name (diacritics,
    "xã"/"phường" and "P."/"X." optional). Several → InvalidInput listing them."""
    text = " " + _expanded(fold(address)) + " "
    # Lộc Thạnh and Lộc Thành fold alike: a name written with its diacritics counts more.
    exact = " " + " ".join(canonical_spelling(address).lower().split()) + " "
    communes = {
        unit.id: unit
        for unit in session.scalars(
            select(Unit).where(
                Unit.parent_id == province.id, Unit.type.in_([t.value for t in COMMUNE_LEVEL])
            )
        )
    }
    names: list[tuple[str, str, int]] = [
        (unit.name, unit.name_key, unit.id) for unit in communes.values()
    ]
    former = session.execute(
        select(UnitName.name, UnitName.name_key, UnitName.unit_id).where(
            UnitName.unit_id.in_(list(communes))
        )
    )
    names += [(name, key, unit_id) for name, key, unit_id in former]
    # unit id → how well its name matches: (written with the same diacritics, matched length)
    found: dict[int, tuple[bool, int]] = {}
    for name, key, unit_id in names:
        written = " ".join(canonical_spelling(name).lower().split())
        bare = written.split(" ", 1)[1] if " " in written else written  # without "xã"
        for folded in (fold(name), key):
            if folded and f" {folded} " in text:
                score = (f" {bare} " in exact, len(folded))
                found[unit_id] = max(found.get(unit_id, (False, 0)), score)
    if not found:
        raise InvalidInput(
            f"No commune or ward of {province.name} is named in '{address[:100]}'; add it "
            "(e.g. 'phường Tam Hiệp') or put a pin on the map.",
            code="unknown_address",
        )
    best = max(found.values())
    chosen = [communes[unit_id] for unit_id, score in found.items() if score == best]
    if len(chosen) > 1:
        listed = ", ".join(sorted(f"{u.name} ({u.code})" for u in chosen))
        raise InvalidInput(
            f"The address names several units: {listed}; say which, or put a pin on the map.",
            code="ambiguous_address",
        )
    return chosen[0]


# "P. Tam Hiệp", "X. Lộc Thạnh", "TP Biên Hòa": the short forms people write.
_ABBREVIATIONS = (
    (r"(?<= )p(?= )", "phuong"),
    (r"(?<= )x(?= )", "xa"),
    (r"(?<= )tp(?= )", "thanh pho"),
)


def _expanded(folded: str) -> str:
    text = f" {folded} "
    for pattern, word in _ABBREVIATIONS:
        text = re.sub(pattern, word, text)
    return text.strip()
