"""Importing commune boundaries from any GeoJSON file and joining them to units.

A feature joins a unit of the operating province by its code, else by its name compared without
diacritics or prefix (sources disagree on codes: the Đồng Nai file has four that differ from the
official list). What does not join is reported, never guessed. A file that is for another
province is refused whole. Names that differ from the unit's (a xã that became a phường) are
reported, and recorded as renames — the unit keeps its code and its history — when asked to.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import shapely
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.text import canonical_spelling, fold, name_key, strip_prefix
from dieuhanh.gis.geojson import Feature, PolygonFile, measure, read_polygon_file
from dieuhanh.gis.models import Boundary, BoundaryImport
from dieuhanh.units.models import Unit, UnitAlias
from dieuhanh.units.service import canonical_code, rename_unit
from dieuhanh.units.types import COMMUNE_LEVEL, TYPE_BY_FOLDED_PREFIX, UnitType

CODE_PROPERTIES = ("code", "ma", "ma_xa", "maxa", "MaXa", "ward_code", "wardCode", "MA_XA")
NAME_PROPERTIES = ("fullName", "full_name", "name", "ten", "ten_xa", "TenXa", "TEN_XA", "NAME")
# Below this share of joined features, a file is taken to be for another province.
MIN_JOINED_SHARE = 0.5


@dataclass
class ImportOptions:
    province_code: str
    today: date
    dry_run: bool = False
    apply_names: bool = False
    effective: date | None = None  # when the names in the file took effect
    attribution: str | None = None
    imported_by: str = "system"


@dataclass
class _Join:
    feature: Feature
    unit: Unit
    by: str  # "code" or "name"
    file_code: str | None
    file_name: str | None


@dataclass
class BoundaryReport:
    filename: str
    province_code: str
    features: int
    matched: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    units_without_boundary: list[dict[str, str]] = field(default_factory=list)
    name_differences: list[dict[str, Any]] = field(default_factory=list)
    spelling_variants: list[dict[str, str]] = field(default_factory=list)
    repaired: list[dict[str, Any]] = field(default_factory=list)
    replaced: int = 0
    unchanged: int = 0
    dry_run: bool = False
    import_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["matched_count"] = len(self.matched)
        data["unmatched_count"] = len(self.unmatched)
        return data


def import_boundaries(
    session: Session, data: bytes, filename: str, options: ImportOptions
) -> BoundaryReport:
    polygon_file = read_polygon_file(data, filename)
    province = session.scalar(
        select(Unit).where(Unit.code == canonical_code(options.province_code))
    )
    if province is None:
        raise InvalidInput(
            f"The operating province {options.province_code} is not loaded; run "
            "'dieuhanh units import reference' first.",
            code="province_not_loaded",
        )
    units = list(
        session.scalars(
            select(Unit)
            .where(Unit.parent_id == province.id, Unit.type.in_([t.value for t in COMMUNE_LEVEL]))
            .options(selectinload(Unit.names), selectinload(Unit.aliases))
        )
    )
    report = BoundaryReport(
        filename, province.code, len(polygon_file.features), dry_run=options.dry_run
    )
    joins = _join_features(session, polygon_file, province, units, report)
    _check_province(session, polygon_file, province, joins, report)
    _compare_names(joins, report)
    joined_ids = {join.unit.id for join in joins}
    report.units_without_boundary = [
        {"code": u.code, "name": u.name} for u in units if u.id not in joined_ids
    ]
    if options.dry_run:
        return report
    if options.apply_names:
        _apply_names(session, joins, report, options)
    record = BoundaryImport(
        filename=filename,
        sha256=polygon_file.sha256,
        province_code=province.code,
        feature_count=report.features,
        matched_count=len(joins),
        attribution=options.attribution or _attribution(polygon_file),
        report={},
        imported_by=options.imported_by,
    )
    session.add(record)
    session.flush()
    _store(session, joins, record, options.today, report, alias_scheme=f"boundary:{filename}")
    store_province_outline(session, province, options.today, record)
    report.import_id = record.id
    record.report = report.as_dict()
    session.flush()
    return report


def _join_features(
    session: Session,
    polygon_file: PolygonFile,
    province: Unit,
    units: list[Unit],
    report: BoundaryReport,
) -> list[_Join]:
    by_code = {u.code: u for u in units}
    by_name: dict[str, list[Unit]] = {}
    for unit in units:
        for key in {unit.name_key, *(n.name_key for n in unit.names)}:
            by_name.setdefault(key, []).append(unit)
    joins: list[_Join] = []
    taken: dict[int, int] = {}
    for feature in polygon_file.features:
        file_code = _first(feature.properties, CODE_PROPERTIES)
        file_name = _first(feature.properties, NAME_PROPERTIES)
        entry = {"feature": feature.index, "code_in_file": file_code, "name_in_file": file_name}
        if feature.problem:
            report.unmatched.append({**entry, "reason": feature.problem})
            continue
        matched, by, reason = _match(file_code, file_name, by_code, by_name, province)
        if matched is None:
            report.unmatched.append({**entry, "reason": reason})
            continue
        if matched.id in taken:
            report.unmatched.append(
                {
                    **entry,
                    "reason": f"{matched.name} is already matched by feature {taken[matched.id]}",
                }
            )
            continue
        taken[matched.id] = feature.index
        joins.append(_Join(feature, matched, by, file_code, file_name))
        report.matched.append(
            {**entry, "unit_code": matched.code, "unit_name": matched.name, "by": by}
        )
        if feature.repaired:
            report.repaired.append(
                {"feature": feature.index, "unit_code": matched.code, "problem": feature.repaired}
            )
    return joins


def _match(
    file_code: str | None,
    file_name: str | None,
    by_code: dict[str, Unit],
    by_name: dict[str, list[Unit]],
    province: Unit,
) -> tuple[Unit | None, str, str]:
    key = name_key(file_name) if file_name else None
    named = _by_name(file_name, key, by_name) if key else []
    coded = by_code.get(canonical_code(file_code)) if file_code else None
    if coded is not None and (key is None or coded.name_key == key or coded in named or not named):
        return coded, "code", ""
    if coded is not None:
        return (
            None,
            "",
            (
                f"code {file_code} is {coded.name} but the name says {file_name} "
                f"({', '.join(u.name for u in named)}); fix one of them"
            ),
        )
    if len(named) == 1:
        return named[0], "name", ""
    if len(named) > 1:
        return None, "", f"name {file_name} fits several units: {', '.join(u.name for u in named)}"
    what = " or ".join(
        part
        for part in (
            f"code {file_code}" if file_code else "",
            f"name {file_name}" if file_name else "",
        )
        if part
    )
    return None, "", f"no unit of {province.name} with {what or 'a code or a name'}"


def _by_name(file_name: str | None, key: str, by_name: dict[str, list[Unit]]) -> list[Unit]:
    candidates = list(dict.fromkeys(by_name.get(key, [])))
    if len(candidates) > 1 and file_name:
        # "Xã X" and "Phường X" may both exist: the prefix in the file decides.
        prefix = strip_prefix(fold(file_name))[0]
        hinted = TYPE_BY_FOLDED_PREFIX.get(prefix)
        same_type = [u for u in candidates if hinted and u.type == hinted.value]
        if len(same_type) == 1:
            return same_type
    return candidates


def _check_province(
    session: Session,
    polygon_file: PolygonFile,
    province: Unit,
    joins: list[_Join],
    report: BoundaryReport,
) -> None:
    usable = [f for f in polygon_file.features if f.problem is None]
    if usable and len(joins) >= MIN_JOINED_SHARE * len(usable):
        return
    codes = [canonical_code(c) for f in usable if (c := _first(f.properties, CODE_PROPERTIES))]
    guess = ""
    if codes:
        parents = Counter(
            session.scalars(
                select(Unit.parent_id).where(Unit.code.in_(codes), Unit.parent_id.is_not(None))
            )
        )
        if parents:
            parent_id, count = parents.most_common(1)[0]
            other = session.get(Unit, parent_id)
            if other is not None and other.id != province.id:
                guess = f" {count} of its codes belong to {other.name} ({other.code})."
    raise InvalidInput(
        f"{polygon_file.filename} does not look like a boundary file of {province.name} "
        f"({province.code}): only {len(joins)} of {len(polygon_file.features)} features match its "
        f"communes/wards.{guess} Nothing was imported.",
        code="wrong_province",
        details=report.unmatched[:20],
    )


def _compare_names(joins: list[_Join], report: BoundaryReport) -> None:
    for join in joins:
        if not join.file_name:
            continue
        unit = join.unit
        file_name = canonical_spelling(join.file_name)
        if file_name == canonical_spelling(unit.name):
            if join.file_name != unit.name:
                report.spelling_variants.append(
                    {"unit_code": unit.code, "name_in_file": join.file_name}
                )
            continue
        if any(canonical_spelling(n.name) == file_name for n in unit.names if n.valid_to):
            continue  # the file still uses a former name
        prefix, key = strip_prefix(fold(file_name))
        new_type = TYPE_BY_FOLDED_PREFIX.get(prefix)
        kind = "type_changed" if key == unit.name_key and new_type else "renamed"
        report.name_differences.append(
            {
                "unit_code": unit.code,
                "unit_name": unit.name,
                "name_in_file": file_name,
                "kind": kind,
                "new_type": (new_type or UnitType(unit.type)).value,
                "applied": False,
            }
        )


def _apply_names(
    session: Session, joins: list[_Join], report: BoundaryReport, options: ImportOptions
) -> None:
    if not report.name_differences:
        return
    if options.effective is None:
        raise InvalidInput(
            "Applying the names in the file needs the date they took effect (effective date).",
            code="effective_date_required",
        )
    units = {join.unit.code: join.unit for join in joins}
    for difference in report.name_differences:
        rename_unit(
            session,
            units[difference["unit_code"]],
            difference["name_in_file"],
            options.effective,
            new_type=UnitType(difference["new_type"]),
            note=f"name in boundary file {report.filename}",
        )
        difference["applied"] = True


def _store(
    session: Session,
    joins: list[_Join],
    record: BoundaryImport,
    today: date,
    report: BoundaryReport,
    alias_scheme: str,
) -> None:
    current = {
        b.unit_id: b
        for b in session.scalars(
            select(Boundary).where(
                Boundary.unit_id.in_([j.unit.id for j in joins]), Boundary.valid_to.is_(None)
            )
        )
    }
    for join in joins:
        assert join.feature.geometry is not None
        if join.file_code and canonical_code(join.file_code) != join.unit.code:
            known = {(a.scheme, a.code) for a in join.unit.aliases}
            if (alias_scheme, join.file_code) not in known:
                join.unit.aliases.append(UnitAlias(scheme=alias_scheme, code=join.file_code))
        if _replace(
            session, current.get(join.unit.id), join.unit, join.feature.geometry, today, record
        ):
            report.replaced += 1
        else:
            report.unchanged += 1


def _replace(
    session: Session,
    old: Boundary | None,
    unit: Unit,
    geometry: Any,
    today: date,
    record: BoundaryImport | None,
) -> bool:
    """Store a unit's new boundary, closing the old one; False when nothing changed."""
    measured = measure(geometry)
    if old is not None and old.geometry_hash == measured.geometry_hash:
        return False
    if old is not None:
        if old.valid_from >= today:
            session.delete(old)  # replaced the same day: keep one boundary per day
        else:
            old.valid_to = today
    session.add(
        Boundary(
            unit=unit,
            unit_id=unit.id,
            geometry=measured.geometry,
            geometry_hash=measured.geometry_hash,
            min_lon=measured.bounds[0],
            min_lat=measured.bounds[1],
            max_lon=measured.bounds[2],
            max_lat=measured.bounds[3],
            label_lon=measured.label[0],
            label_lat=measured.label[1],
            area_km2=measured.area_km2,
            valid_from=today,
            import_id=record.id if record else None,
        )
    )
    session.flush()
    return True


def store_province_outline(
    session: Session, province: Unit, today: date, record: BoundaryImport | None
) -> None:
    """The province's own boundary is the union of its communes' (no separate file needed)."""
    rows = session.scalars(
        select(Boundary.geometry)
        .join(Unit, Unit.id == Boundary.unit_id)
        .where(Unit.parent_id == province.id, Boundary.valid_to.is_(None))
    ).all()
    if not rows:
        return
    outline = shapely.union_all([shape(g) for g in rows]).buffer(0)
    old = session.scalar(
        select(Boundary).where(Boundary.unit_id == province.id, Boundary.valid_to.is_(None))
    )
    _replace(session, old, province, outline, today, record)


def _first(properties: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = properties.get(key)
        if value not in (None, ""):
            return str(value).strip()
    return None


def _attribution(polygon_file: PolygonFile) -> str | None:
    for key in ("attribution", "source", "name"):
        if key in polygon_file.metadata:
            return str(polygon_file.metadata[key])[:500]
    return None
