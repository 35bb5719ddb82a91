"""HTTP API of units."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from dieuhanh.core.access import Permission, authorize, require
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.uploads import ImportUpload, Upload
from dieuhanh.units import service
from dieuhanh.units.listfile import import_unit_list
from dieuhanh.units.models import Unit
from dieuhanh.units.search import search_units
from dieuhanh.units.types import ADMINISTRATIVE, UnitType

router = api_router("units")

RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
MAX_LIST_FILE = 5 * 1024 * 1024
LIST_UPLOAD = ImportUpload(MAX_LIST_FILE, "CSV or JSON list of units")


class NameOut(BaseModel):
    name: str
    type: str
    valid_from: date | None
    valid_to: date | None
    note: str | None = None


class AliasOut(BaseModel):
    scheme: str
    code: str


class UnitOut(BaseModel):
    code: str
    name: str
    type: str
    parent_code: str | None
    short_name: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    matched_name: str | None = Field(
        default=None, description="In a search: the former name that matched, if not the current"
    )

    @classmethod
    def of(cls, unit: Unit, matched_name: str | None = None) -> UnitOut:
        return cls(
            code=unit.code,
            name=unit.name,
            type=unit.type,
            parent_code=unit.parent.code if unit.parent else None,
            short_name=unit.short_name,
            valid_from=unit.valid_from,
            valid_to=unit.valid_to,
            matched_name=matched_name if matched_name and matched_name != unit.name else None,
        )


class UnitDetailOut(UnitOut):
    parent_name: str | None
    codename: str | None
    source: str
    names: list[NameOut] = Field(description="Every name the unit has carried, oldest first")
    aliases: list[AliasOut] = Field(description="Codes of this unit in other systems")
    children: dict[str, int] = Field(description="Number of child units by type")
    address: str | None
    phone: str | None
    email: str | None
    website: str | None


def _detail(db: Db, unit: Unit, as_of: date | None = None) -> UnitDetailOut:
    base = UnitOut.of(unit)
    if as_of is not None:
        entry = service.name_as_of(unit, as_of)
        if entry is None:
            raise InvalidInput(
                f"{unit.code} had no name on {as_of.isoformat()}.", code="not_valid_then"
            )
        base.name, base.type = entry.name, entry.type
    return UnitDetailOut(
        **base.model_dump(),
        parent_name=unit.parent.name if unit.parent else None,
        codename=unit.codename,
        source=unit.source,
        names=[NameOut.model_validate(n, from_attributes=True) for n in unit.names],
        aliases=[AliasOut.model_validate(a, from_attributes=True) for a in unit.aliases],
        children=service.count_children(db, unit),
        address=unit.address,
        phone=unit.phone,
        email=unit.email,
        website=unit.website,
    )


def _types(text: str | None, default: frozenset[UnitType] | None) -> frozenset[UnitType] | None:
    if not text:
        return default
    if text == "all":
        return None
    try:
        return frozenset(UnitType(part.strip()) for part in text.split(","))
    except ValueError:
        raise InvalidInput(
            f"type must be 'all' or a comma list of {', '.join(t.value for t in UnitType)}.",
            code="invalid_type",
        ) from None


@router.get(
    "/units",
    response_model=list[UnitOut],
    summary="List or search units",
    description=(
        "`parent=CODE` lists a unit's administrative children (communes/wards of a province; add "
        "`type=department` for its departments, `type=all` for both). `q=TEXT` searches names, "
        "current and former, ignoring diacritics, case and the prefix (xã, phường…). The total "
        "before `limit`/`offset` is in the `X-Total-Count` header."
    ),
)
def list_units(
    db: Db,
    response: Response,
    runtime: RuntimeDep,
    parent: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=200)] = None,
    within: Annotated[
        str | None, Query(max_length=32, description="Search only this unit and its children")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[UnitOut]:
    if q is not None and q.strip():
        scope_code = within or parent
        scope_unit = service.get_unit(db, scope_code) if scope_code else None
        province = service.find_unit(db, runtime.settings.province_code)
        matches = search_units(
            db,
            q,
            within=scope_unit,
            types=_types(type, None),
            prefer_province_id=province.id if province else None,
            limit=offset + limit,
        )
        response.headers["X-Total-Count"] = str(len(matches))
        return [UnitOut.of(m.unit, m.matched_name) for m in matches[offset:]]
    if parent is None:
        raise InvalidInput(
            "Give parent=CODE to list a unit's children, or q=TEXT to search.",
            code="missing_filter",
        )
    parent_unit = service.get_unit(db, parent)
    units = service.children(db, parent_unit, _types(type, ADMINISTRATIVE) or frozenset(UnitType))
    response.headers["X-Total-Count"] = str(len(units))
    return [UnitOut.of(unit) for unit in units[offset : offset + limit]]


@router.get("/units/{code}", response_model=UnitDetailOut, summary="One unit, with its history")
def read_unit(
    code: str,
    db: Db,
    as_of: Annotated[date | None, Query(description="Name and type in force on this day")] = None,
) -> UnitDetailOut:
    return _detail(db, service.get_unit_detail(db, code), as_of)


class UnitPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=120)
    website: str | None = Field(default=None, max_length=200)


@router.patch("/units/{code}", response_model=UnitDetailOut, summary="Change a unit's profile")
def patch_unit(code: str, body: UnitPatch, db: Db, principal: CurrentPrincipal) -> UnitDetailOut:
    unit = service.get_unit_detail(db, code)
    authorize(principal, "write", unit.id, unit.name)
    service.update_profile(unit, body.model_dump(exclude_unset=True))
    db.commit()
    return _detail(db, unit)


class RenameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    type: UnitType | None = None
    effective_date: date
    note: str | None = Field(default=None, max_length=300)


@router.post(
    "/units/{code}/rename",
    response_model=UnitDetailOut,
    summary="Record a new name (and type) from a date; the old name is kept",
)
def rename(code: str, body: RenameIn, db: Db, principal: CurrentPrincipal) -> UnitDetailOut:
    require(principal, Permission.MANAGE_REFERENCE)
    unit = service.get_unit_detail(db, code)
    service.rename_unit(
        db, unit, body.name, body.effective_date, new_type=body.type, note=body.note
    )
    db.commit()
    return _detail(db, unit)


@router.post(
    "/units/import",
    summary="Import a unit list (CSV or JSON)",
    description="All rows are checked first: one bad row rejects the file, listing every "
    "problem by line, and nothing is written. `dry_run=true` checks without writing. "
    "At most 5 MB.",
    openapi_extra=LIST_UPLOAD.openapi,
)
def import_list(
    db: Db,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    upload: Annotated[Upload, Depends(LIST_UPLOAD)],
    dry_run: bool = False,
) -> dict[str, Any]:
    require(principal, Permission.MANAGE_REFERENCE)
    data, filename = upload.data, upload.filename
    report = import_unit_list(
        db, data, filename, today=runtime.today(), default_parent=runtime.settings.province_code
    )
    if dry_run:
        db.rollback()
    else:
        db.commit()
    return {**report.as_dict(), "dry_run": dry_run}
