"""The official list of provinces and communes/wards, from the PyPI package ``vietnam-provinces``.

Its codes are the General Statistics Office's; its names are those in force since the two-level
organisation of 1 July 2025. Loading is idempotent: a unit already present is left as it is (a
rename recorded here since is history, not drift), and the differences are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import vietnam_provinces
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from vietnam_provinces import Province, Ward

from dieuhanh.core.db.actor import bulk
from dieuhanh.core.text import canonical_spelling, name_key
from dieuhanh.units.models import Unit, UnitName
from dieuhanh.units.service import commune_code, province_code
from dieuhanh.units.types import FROM_DIVISION_TYPE

SOURCE = "vietnam-provinces"
# Resolution 202/2025/QH15 and the resolutions on communes took effect on this day.
REFERENCE_VALID_FROM = date(2025, 7, 1)


@dataclass
class CatalogReport:
    version: str
    provinces: int = 0
    communes: int = 0
    created: int = 0
    unchanged: int = 0
    differing: list[str] = field(default_factory=list)


def load_reference(session: Session) -> CatalogReport:
    report = CatalogReport(version=vietnam_provinces.__version__)
    existing = {
        unit.code: unit for unit in session.scalars(select(Unit).options(selectinload(Unit.names)))
    }
    note = f"loaded from {SOURCE} {vietnam_provinces.__version__}"
    with bulk(session, note):
        provinces: dict[str, Unit] = {}
        for province in Province.iter_all():
            code = province_code(int(province.code))
            provinces[code] = _upsert(
                session,
                existing,
                report,
                code,
                province.name,
                province.division_type.value,
                province.codename,
                parent=None,
            )
            report.provinces += 1
        session.flush()
        for ward in Ward.iter_all():
            parent = provinces[province_code(int(ward.province_code))]
            _upsert(
                session,
                existing,
                report,
                commune_code(int(ward.code)),
                ward.name,
                ward.division_type.value,
                ward.codename,
                parent=parent,
            )
            report.communes += 1
    return report


def _upsert(
    session: Session,
    existing: dict[str, Unit],
    report: CatalogReport,
    code: str,
    name: str,
    division_type: str,
    codename: str,
    parent: Unit | None,
) -> Unit:
    unit_type = FROM_DIVISION_TYPE[division_type]
    unit = existing.get(code)
    if unit is not None:
        official = next((n for n in unit.names if n.valid_from == REFERENCE_VALID_FROM), None)
        if official is None or canonical_spelling(official.name) != canonical_spelling(name):
            report.differing.append(f"{code}: stored '{unit.name}', {SOURCE} '{name}'")
        report.unchanged += 1
        return unit
    unit = Unit(
        code=code,
        name=name,
        type=unit_type.value,
        parent=parent,
        codename=codename,
        name_key=name_key(name),
        valid_from=REFERENCE_VALID_FROM,
        source=SOURCE,
    )
    unit.names.append(
        UnitName(
            name=name,
            type=unit_type.value,
            name_key=unit.name_key,
            valid_from=REFERENCE_VALID_FROM,
            note=f"{SOURCE} {vietnam_provinces.__version__}",
        )
    )
    session.add(unit)
    existing[code] = unit
    report.created += 1
    return unit
