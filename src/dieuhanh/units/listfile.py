"""Importing a list of units (CSV or JSON): the provincial departments, or any unit not in the
official catalogue.

Columns: ``code, name, type, parent_code`` and optionally ``short_name, valid_from, address,
phone, email, website`` (Vietnamese headers such as ``mã, tên, loại, mã cấp trên`` work too).
The whole file is checked first; one bad row rejects the file and nothing is written, with every
problem listed by line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.tabular import Row, read_table
from dieuhanh.core.text import canonical_spelling, name_key
from dieuhanh.units.catalog import SOURCE as CATALOG_SOURCE
from dieuhanh.units.models import Unit, UnitName
from dieuhanh.units.service import PROFILE_FIELDS, canonical_code, rename_unit, update_profile
from dieuhanh.units.types import UnitType

COLUMN_ALIASES = {
    "ma": "code",
    "ma_don_vi": "code",
    "ten": "name",
    "ten_don_vi": "name",
    "loai": "type",
    "ma_cap_tren": "parent_code",
    "ma_don_vi_cap_tren": "parent_code",
    "parent": "parent_code",
    "ten_viet_tat": "short_name",
    "viet_tat": "short_name",
    "hieu_luc_tu": "valid_from",
    "dia_chi": "address",
    "dien_thoai": "phone",
}
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


@dataclass
class ListImportReport:
    filename: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


@dataclass(frozen=True)
class _Entry:
    line: int
    code: str
    name: str
    type: UnitType
    parent_code: str | None
    short_name: str | None
    valid_from: date | None
    profile: dict[str, str | None]


def import_unit_list(
    session: Session,
    data: bytes,
    filename: str,
    *,
    today: date,
    default_parent: str | None = None,
    source: str | None = None,
) -> ListImportReport:
    """Validate the whole list, then create or update its units. ``default_parent`` is the parent
    of rows that name none (the operating province, for a departments list)."""
    table = read_table(data, filename, aliases=COLUMN_ALIASES, required=("code", "name"))
    existing = {
        unit.code: unit for unit in session.scalars(select(Unit).options(selectinload(Unit.names)))
    }
    entries, errors = _parse_rows(table.rows, existing, default_parent)
    if errors:
        raise InvalidInput(
            f"{filename}: {len(errors)} problem(s); nothing was imported.",
            code="invalid_unit_list",
            details=errors,
        )
    report = ListImportReport(filename=filename)
    for entry in entries:
        _apply(session, existing, entry, source or f"list:{filename}", today, report)
    session.flush()
    return report


def _parse_rows(
    rows: list[Row], existing: dict[str, Unit], default_parent: str | None
) -> tuple[list[_Entry], list[dict[str, Any]]]:
    errors: list[dict[str, Any]] = []
    entries: list[_Entry] = []
    first_line: dict[str, int] = {}
    for row in rows:
        problems: list[tuple[str, str]] = []
        entry = _parse_row(row, problems, default_parent)
        if entry is not None:
            if entry.code in first_line:
                problems.append(
                    (
                        "code",
                        f"duplicate code {entry.code} (first on line {first_line[entry.code]})",
                    )
                )
            else:
                first_line[entry.code] = row.number
            unit = existing.get(entry.code)
            if unit is not None and unit.source == CATALOG_SOURCE:
                problems.append(
                    (
                        "code",
                        f"{entry.code} is an official unit ({unit.name}); it cannot be "
                        "changed by a list import — use 'dieuhanh units rename'",
                    )
                )
        errors.extend({"line": row.number, "field": f, "message": m} for f, m in problems)
        if entry is not None and not problems:
            entries.append(entry)
    known = set(existing) | {entry.code for entry in entries}
    types = {code: UnitType(unit.type) for code, unit in existing.items()}
    types.update({entry.code: entry.type for entry in entries})
    for entry in entries:
        problem = _parent_problem(entry, known, types)
        if problem:
            errors.append({"line": entry.line, "field": "parent_code", "message": problem})
    errors.sort(key=lambda error: error["line"])
    return entries, errors


def _parse_row(
    row: Row, problems: list[tuple[str, str]], default_parent: str | None
) -> _Entry | None:
    values = row.values
    code = values.get("code", "")
    name = canonical_spelling(values.get("name", ""))
    if not CODE_PATTERN.match(code):
        problems.append(
            ("code", f"'{code[:40]}' is not a valid code (letters, digits, . _ -; at most 32)")
        )
    if not name:
        problems.append(("name", "the name is empty"))
    elif len(name) > 200:
        problems.append(("name", f"the name has {len(name)} characters, at most 200"))
    try:
        unit_type = UnitType(values.get("type") or UnitType.DEPARTMENT.value)
    except ValueError:
        problems.append(
            (
                "type",
                f"unknown type '{values.get('type')}'; one of "
                f"{', '.join(t.value for t in UnitType)}",
            )
        )
        unit_type = UnitType.DEPARTMENT
    short_name = values.get("short_name") or None
    if short_name and len(short_name) > 60:
        problems.append(("short_name", "at most 60 characters"))
    valid_from = _parse_date(values.get("valid_from", ""), problems)
    profile = {key: values.get(key) or None for key in PROFILE_FIELDS if key in values}
    for key, value in profile.items():
        if value and len(value) > PROFILE_FIELDS[key]:
            problems.append((key, f"at most {PROFILE_FIELDS[key]} characters"))
    if problems:
        return None
    parent = values.get("parent_code") or None
    if parent is None and not unit_type.is_province_level:
        parent = default_parent
    return _Entry(
        line=row.number,
        code=canonical_code(code),
        name=name,
        type=unit_type,
        parent_code=canonical_code(parent) if parent else None,
        short_name=short_name,
        valid_from=valid_from,
        profile=profile,
    )


def _parse_date(text: str, problems: list[tuple[str, str]]) -> date | None:
    if not text:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    problems.append(("valid_from", f"'{text}' is not a date (dd/mm/yyyy)"))
    return None


def _parent_problem(entry: _Entry, known: set[str], types: dict[str, UnitType]) -> str | None:
    if entry.type.is_province_level:
        return "a province has no parent" if entry.parent_code else None
    if not entry.parent_code:
        return f"a unit of type {entry.type.value} needs a parent_code"
    if entry.parent_code not in known:
        return f"unknown parent {entry.parent_code}"
    if entry.parent_code == entry.code:
        return "a unit cannot be its own parent"
    if not types[entry.parent_code].is_province_level:
        return f"the parent {entry.parent_code} is not a province"
    return None


def _apply(
    session: Session,
    existing: dict[str, Unit],
    entry: _Entry,
    source: str,
    today: date,
    report: ListImportReport,
) -> None:
    parent = existing[entry.parent_code] if entry.parent_code else None
    unit = existing.get(entry.code)
    if unit is None:
        unit = Unit(
            code=entry.code,
            name=entry.name,
            type=entry.type.value,
            parent=parent,
            short_name=entry.short_name,
            name_key=name_key(entry.name),
            valid_from=entry.valid_from,
            source=source,
        )
        unit.names.append(
            UnitName(
                name=entry.name,
                type=entry.type.value,
                name_key=unit.name_key,
                valid_from=entry.valid_from,
                note=source,
            )
        )
        update_profile(unit, entry.profile)
        session.add(unit)
        existing[entry.code] = unit
        report.created.append(entry.code)
        return
    changed = False
    if unit.name != entry.name or unit.type != entry.type.value:
        rename_unit(
            session, unit, entry.name, entry.valid_from or today, new_type=entry.type, note=source
        )
        changed = True
    for attr, value in (("parent", parent), ("short_name", entry.short_name)):
        if getattr(unit, attr) != value:
            setattr(unit, attr, value)
            changed = True
    if any(getattr(unit, key) != value for key, value in entry.profile.items()):
        update_profile(unit, entry.profile)
        changed = True
    (report.updated if changed else report.unchanged).append(entry.code)
