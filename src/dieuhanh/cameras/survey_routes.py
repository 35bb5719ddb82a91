"""HTTP API of the camera survey and of integration progress."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from dieuhanh.cameras import progress, survey
from dieuhanh.cameras.models import CameraDeclaration
from dieuhanh.cameras.routes import registry
from dieuhanh.core.access import authorize
from dieuhanh.core.errors import NotFound
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.uploads import ImportUpload, Upload
from dieuhanh.units.service import get_unit

router = api_router("camera survey")
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
MAX_SURVEY_FILE = 10 * 1024 * 1024
SURVEY_UPLOAD = ImportUpload(
    MAX_SURVEY_FILE,
    "xlsx or CSV",
    {"dry_run": "true: a preview, nothing written", "unit_code": "Default: my unit"},
)
CSV = "text/csv; charset=utf-8"


@router.post(
    "/cameras/import",
    summary="Upload the camera survey (xlsx or CSV)",
    description="One row per camera or group of cameras, columns as in the Government "
    "Office's survey appendix (see the template). `dry_run=true` returns a preview with "
    "every row's problems and writes nothing; otherwise the good rows are stored (rows "
    "with a stream URL also register the camera) and the bad ones listed. At most 10 MB.",
    openapi_extra=SURVEY_UPLOAD.openapi,
)
def import_survey(
    db: Db,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    upload: Annotated[Upload, Depends(SURVEY_UPLOAD)],
) -> dict[str, Any]:
    data, filename = upload.data, upload.filename
    dry_run, unit_code = upload.flag("dry_run"), upload.text("unit_code", 32)
    report = survey.import_survey(
        db,
        registry(runtime),
        principal,
        data,
        filename,
        default_unit=unit_code or principal.unit_code,
        dry_run=dry_run,
    )
    if dry_run:
        db.rollback()
    else:
        db.commit()
    return report.as_dict()


@router.get(
    "/cameras/survey-template.csv",
    summary="The survey spreadsheet template",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def survey_template() -> Response:
    return Response(
        survey.template_csv(),
        media_type=CSV,
        headers={"Content-Disposition": 'attachment; filename="khao-sat-camera.csv"'},
    )


class DeclarationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_code: str | None = Field(default=None, max_length=32)
    camera_type: str = Field(max_length=30)
    model: str = Field(max_length=100)
    manufacturer: str = Field(max_length=100)
    count: int = Field(ge=1, le=10_000)
    location: str = Field(max_length=300)
    purpose: str | None = Field(default=None, max_length=40)
    recorder_kind: str | None = Field(default=None, max_length=40)
    recorder_details: str | None = Field(default=None, max_length=300)
    internet_stream: str | None = Field(default=None, max_length=10)
    stream_protocol: str | None = Field(default=None, max_length=40)
    stream_url: str | None = Field(default=None, max_length=500)
    connection_model: str | None = Field(default=None, max_length=300)
    ip_range: str | None = Field(default=None, max_length=100)
    reachable_from_government_network: str | None = Field(default=None, max_length=10)
    link_type: str | None = Field(default=None, max_length=100)
    link_speed: str | None = Field(default=None, max_length=60)
    notes: str | None = Field(default=None, max_length=500)


class DeclarationOut(BaseModel):
    id: int
    unit_code: str
    unit_name: str
    camera_type: str | None
    model: str | None
    manufacturer: str | None
    count: int
    location: str | None
    purpose: str
    recorder_kind: str | None
    recorder_details: str | None
    internet_stream: bool | None
    stream_protocol: str | None
    connection_model: str | None
    ip_range: str | None
    reachable_from_government_network: bool | None
    link_type: str | None
    link_speed: str | None
    notes: str | None
    source: str

    @classmethod
    def of(cls, row: CameraDeclaration) -> DeclarationOut:
        fields = {
            k: getattr(row, k) for k in cls.model_fields if k not in ("unit_code", "unit_name")
        }
        return cls(**fields, unit_code=row.unit.code, unit_name=row.unit.name)


@router.get(
    "/cameras/declarations",
    response_model=list[DeclarationOut],
    summary="What units declared in the survey (within my scope)",
)
def list_declarations(
    db: Db, principal: CurrentPrincipal, unit: Annotated[str | None, Query(max_length=32)] = None
) -> list[DeclarationOut]:
    statement = select(CameraDeclaration).where(
        principal.read_scope.where(CameraDeclaration.unit_id)
    )
    if unit:
        statement = statement.where(CameraDeclaration.unit_id == get_unit(db, unit).id)
    return [DeclarationOut.of(row) for row in db.scalars(statement.order_by(CameraDeclaration.id))]


@router.post(
    "/cameras/declarations",
    response_model=DeclarationOut,
    status_code=201,
    summary="Declare cameras (the survey form)",
)
def create_declaration(
    body: DeclarationIn, db: Db, principal: CurrentPrincipal, runtime: RuntimeDep
) -> DeclarationOut:
    values = body.model_dump(exclude={"unit_code"})
    row = survey.declare(
        db, registry(runtime), principal, values, body.unit_code or principal.unit_code
    )
    db.commit()
    return DeclarationOut.of(row)


@router.delete(
    "/cameras/declarations/{declaration_id:int}", status_code=204, summary="Withdraw a declaration"
)
def delete_declaration(declaration_id: int, db: Db, principal: CurrentPrincipal) -> Response:
    row = db.get(CameraDeclaration, declaration_id)
    if row is None:
        raise NotFound(f"No declaration {declaration_id}.", code="declaration_not_found")
    authorize(principal, "write", row.unit_id, row.unit.name)
    db.delete(row)
    db.commit()
    return Response(status_code=204)


@router.get(
    "/cameras/progress",
    summary="Integration progress of every commune/ward",
    description="Per unit: cameras declared, registered, live, dead, and its stage "
    "(none, declared, registered, connected); totals such as 11/95 connected.",
)
def camera_progress(db: Db, principal: CurrentPrincipal, runtime: RuntimeDep) -> dict[str, Any]:
    rows = progress.province_progress(db, get_unit(db, runtime.settings.province_code), principal)
    return {"totals": progress.totals(rows), "units": [row.as_dict() for row in rows]}


@router.get(
    "/cameras/progress/lagging.csv",
    summary="Units not yet connected, with their next step",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def lagging_units(db: Db, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    rows = progress.province_progress(db, get_unit(db, runtime.settings.province_code), principal)
    return Response(
        progress.lagging_csv(rows),
        media_type=CSV,
        headers={"Content-Disposition": 'attachment; filename="don-vi-chua-ket-noi.csv"'},
    )
