"""HTTP API of boundaries: unit shapes, map layers, imports, point lookup."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from dieuhanh.core.access import Permission, require
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.uploads import ImportUpload, Upload
from dieuhanh.gis import service
from dieuhanh.gis.importer import ImportOptions, import_boundaries
from dieuhanh.units.service import get_unit

router = api_router("boundaries")
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
MAX_BOUNDARY_FILE = 100 * 1024 * 1024
BOUNDARY_UPLOAD = ImportUpload(
    MAX_BOUNDARY_FILE,
    "GeoJSON FeatureCollection (optionally gzip)",
    {
        "dry_run": "true: report without writing",
        "apply_names": "true: record the file's names as renames (with effective_date)",
        "effective_date": "YYYY-MM-DD",
        "attribution": "where the boundaries come from (at most 500 characters)",
    },
)
GEOJSON = "application/geo+json"


@router.get(
    "/units/{code}/boundary",
    summary="A unit's boundary as a GeoJSON Feature",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def unit_boundary(code: str, db: Db) -> Response:
    feature = service.unit_feature(db, get_unit(db, code))
    return JSONResponse(feature, media_type=GEOJSON)


@router.get(
    "/boundaries",
    summary="The boundaries of a unit's children as a FeatureCollection",
    description="The map layer of a province's communes/wards. Cached by ETag.",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def children_boundaries(
    request: Request, db: Db, parent: Annotated[str, Query(max_length=32)]
) -> Response:
    unit = get_unit(db, parent)
    etag = f'W/"{service.layer_version(db, unit)}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return JSONResponse(service.children_collection(db, unit), media_type=GEOJSON, headers=headers)


class LocateOut(BaseModel):
    code: str | None
    name: str | None


@router.get("/locate", response_model=LocateOut, summary="Which commune/ward contains a point")
def locate(
    db: Db,
    runtime: RuntimeDep,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
) -> LocateOut:
    province = get_unit(db, runtime.settings.province_code)
    unit = service.locate(db, lon, lat, province)
    return LocateOut(code=unit.code if unit else None, name=unit.name if unit else None)


@router.post(
    "/boundaries/import",
    summary="Import commune boundaries from a GeoJSON file",
    description="Features join units of the operating province by code, else by name "
    "(diacritics-insensitive). The report lists what joined, what did not and why, and "
    "names that differ. `dry_run=true` reports without writing; `apply_names=true` with "
    "`effective_date` records the file's names as renames. At most 100 MB.",
    openapi_extra=BOUNDARY_UPLOAD.openapi,
)
def import_file(
    db: Db,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    upload: Annotated[Upload, Depends(BOUNDARY_UPLOAD)],
) -> dict[str, Any]:
    require(principal, Permission.MANAGE_REFERENCE)
    data, filename = upload.data, upload.filename
    dry_run, apply_names = upload.flag("dry_run"), upload.flag("apply_names")
    effective_date = upload.text("effective_date", 20)
    attribution = upload.text("attribution", 500)
    options = ImportOptions(
        province_code=runtime.settings.province_code,
        today=runtime.today(),
        dry_run=dry_run,
        apply_names=apply_names,
        effective=_parse_date(effective_date),
        attribution=attribution,
        imported_by=principal.username,
    )
    report = import_boundaries(db, data, filename, options)
    db.commit()
    return report.as_dict()


def _parse_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"effective_date '{text[:20]}' is not a date (YYYY-MM-DD).", code="invalid_date"
        ) from None
