"""HTTP API of the data hub: sources, runs, raw payloads, dataset records and provenance."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from dieuhanh.core.access import Permission, require
from dieuhanh.core.errors import InvalidInput, NotFound
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.uploads import ImportUpload, Upload
from dieuhanh.datahub.connectors import Upload as SentFile
from dieuhanh.datahub.datasets import confirm_schema, record_query, schema_of
from dieuhanh.datahub.datasets import count as count_records
from dieuhanh.datahub.models import (
    DatasetRecord,
    DatasetSchema,
    DataSource,
    RunPayload,
    SensorReading,
    SourceRun,
    Trigger,
)
from dieuhanh.datahub.provenance import trace_value
from dieuhanh.datahub.runs import get_source, payload_body, preview_upload, run_source
from dieuhanh.datahub.service import save_source
from dieuhanh.datahub.spec import parse_spec
from dieuhanh.units.models import Unit
from dieuhanh.units.service import find_unit, subtree_ids

router = api_router("datahub")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
SOURCE_UPLOAD = ImportUpload(
    MAX_UPLOAD_BYTES,
    "xlsx or CSV, with the source's template columns",
    {"dry_run": "true: a preview of every row's problems, nothing written"},
)


class SourceOut(BaseModel):
    code: str
    name: str
    kind: str
    state: str = Field(description="`live`, `late`, `failing` or `never`.")
    state_reason: str | None
    state_since: datetime
    last_success_at: datetime | None
    last_run_at: datetime | None
    last_error: str | None
    next_run_at: datetime | None
    schedule: str | None
    freshness: dict[str, Any] | None
    enabled: bool

    @classmethod
    def of(cls, source: DataSource) -> SourceOut:
        return cls.model_validate(source, from_attributes=True)


class SourceDetail(SourceOut):
    config: dict[str, Any] = Field(
        description="As declared; secrets appear only as `${DIEUHANH_SOURCE_…}` references."
    )
    cursor: dict[str, Any]


class SourceIn(BaseModel):
    code: str
    name: str
    kind: str
    config: dict[str, Any]
    schedule: str | None = None
    freshness: dict[str, Any] | None = None
    enabled: bool = True


class RunOut(BaseModel):
    id: int
    trigger: str
    started_by: str | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    fetched: int
    new: int
    updated: int
    unchanged: int
    rejected: int
    error: str | None


class PayloadOut(BaseModel):
    id: int
    sequence: int
    resource: str
    reference: str
    content_type: str | None
    size: int
    sha256: str
    records: int
    received_at: datetime


class RunDetail(RunOut):
    problems: list[dict[str, Any]]
    payloads: list[PayloadOut]


class RunResult(BaseModel):
    run_id: int
    status: str
    fetched: int
    new: int
    updated: int
    unchanged: int
    rejected: int
    error: str | None


@router.get(
    "/sources",
    response_model=list[SourceOut],
    summary="Data sources and how current each is",
    description="`state`: `live` (last run succeeded, fresh enough), `late` (last success older "
    "than its freshness allows), `failing` (last run failed: see `last_error`), `never`.",
)
def list_sources(db: Db, principal: CurrentPrincipal) -> list[SourceOut]:
    require(principal, Permission.READ_ALL)
    return [
        SourceOut.of(source) for source in db.scalars(select(DataSource).order_by(DataSource.code))
    ]


@router.post(
    "/sources",
    response_model=SourceDetail,
    status_code=201,
    summary="Declare a data source",
    description="For `kind: rest_api`, `config` uses dlt's REST source keys (`client.base_url`, "
    "`client.auth`, `client.paginator`, `resources[].endpoint.*`) plus `mapping`. Secrets are "
    "references `${DIEUHANH_SOURCE_…}` to the server's environment. Errors name the key.",
)
def create_source(body: SourceIn, db: Db, principal: CurrentPrincipal) -> SourceDetail:
    require(principal, Permission.MANAGE_SOURCES)
    source = save_source(db, parse_spec(body.model_dump()), create_only=True)
    db.commit()
    return SourceDetail.model_validate(source, from_attributes=True)


@router.get("/sources/{code}", response_model=SourceDetail, summary="One data source")
def get_source_detail(code: str, db: Db, principal: CurrentPrincipal) -> SourceDetail:
    require(principal, Permission.READ_ALL)
    return SourceDetail.model_validate(get_source(db, code), from_attributes=True)


@router.put("/sources/{code}", response_model=SourceDetail, summary="Change a data source")
def update_source(code: str, body: SourceIn, db: Db, principal: CurrentPrincipal) -> SourceDetail:
    require(principal, Permission.MANAGE_SOURCES)
    if body.code != code:
        raise InvalidInput("code: a source's code cannot change.", code="invalid_source")
    get_source(db, code)
    source = save_source(db, parse_spec(body.model_dump()))
    db.commit()
    return SourceDetail.model_validate(source, from_attributes=True)


@router.post(
    "/sources/{code}/run",
    response_model=RunResult,
    summary="Run a data source now",
    description="Runs to the end and answers its counts. A run that fails is recorded with its "
    "reason and answered with `status: failed` (HTTP 200); 409 when it is running already.",
)
async def run_now(code: str, request: Request, principal: CurrentPrincipal) -> RunResult:
    require(principal, Permission.MANAGE_SOURCES)
    runtime = get_runtime(request)
    outcome = await run_in_threadpool(
        run_source, runtime, code, trigger=Trigger.MANUAL, started_by=principal.username
    )
    return RunResult.model_validate(outcome.to_json())


class UploadPreview(BaseModel):
    dry_run: bool = True
    fetched: int
    new: int
    updated: int
    unchanged: int
    rejected: int
    problems: list[dict[str, Any]] = Field(
        description="Each rejected row: `{record: row number in the file, field: column "
        "header, message}` (the first 100)."
    )
    rows: list[dict[str, Any]] = Field(description="The first 50 rows as read: `{row, values}`.")


class UploadResult(RunResult):
    problems: list[dict[str, Any]]


@router.post(
    "/sources/{code}/upload",
    response_model=UploadPreview | UploadResult,
    summary="Send a file to an upload source",
    description="An Excel (.xlsx) or CSV file against the source's template: headers match "
    "whatever their accents and spacing. `dry_run=true` answers what would happen row by row "
    "and writes nothing; otherwise the good rows are stored in a recorded run and the bad "
    "ones listed with their row and column. People who may write their own unit's data can "
    "upload; each row must be within their scope. At most 50 MB (413 past it).",
    openapi_extra=SOURCE_UPLOAD.openapi,
)
async def upload_file(
    code: str,
    request: Request,
    principal: CurrentPrincipal,
    upload: Annotated[Upload, Depends(SOURCE_UPLOAD)],
) -> UploadPreview | UploadResult:
    require(principal, Permission.WRITE_OWN)  # each row is then held to the write scope
    runtime = get_runtime(request)
    with runtime.sessions() as session:
        if get_source(session, code).kind != "upload":
            raise InvalidInput(
                f"Data source '{code}' is not an upload source.", code="not_an_upload_source"
            )
    file = SentFile(upload.data, upload.filename)
    if upload.flag("dry_run"):
        preview = await run_in_threadpool(preview_upload, runtime, code, file, principal)
        counts = preview.outcome.to_json()
        return UploadPreview(
            **{key: counts[key] for key in ("fetched", "new", "updated", "unchanged", "rejected")},
            problems=preview.outcome.problems,
            rows=preview.rows,
        )
    outcome = await run_in_threadpool(
        run_source,
        runtime,
        code,
        trigger=Trigger.UPLOAD,
        started_by=principal.username,
        upload=file,
        principal=principal,
    )
    return UploadResult.model_validate(outcome.to_json() | {"problems": outcome.problems})


@router.get("/sources/{code}/runs", response_model=list[RunOut], summary="A source's runs")
def list_runs(
    code: str,
    db: Db,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[RunOut]:
    require(principal, Permission.READ_ALL)
    source = get_source(db, code)
    runs = db.scalars(
        select(SourceRun)
        .where(SourceRun.source_id == source.id)
        .order_by(SourceRun.id.desc())
        .limit(limit)
    )
    return [RunOut.model_validate(run, from_attributes=True) for run in runs]


@router.get("/sources/{code}/runs/{run_id}", response_model=RunDetail, summary="One run")
def get_run(code: str, run_id: int, db: Db, principal: CurrentPrincipal) -> RunDetail:
    require(principal, Permission.READ_ALL)
    source = get_source(db, code)
    run = db.get(SourceRun, run_id)
    if run is None or run.source_id != source.id:
        raise NotFound(f"No run {run_id} of source '{code}'.", code="run_not_found")
    payloads = db.scalars(
        select(RunPayload).where(RunPayload.run_id == run.id).order_by(RunPayload.sequence)
    )
    return RunDetail.model_validate(
        {
            **RunOut.model_validate(run, from_attributes=True).model_dump(),
            "problems": run.problems or [],
            "payloads": [PayloadOut.model_validate(p, from_attributes=True) for p in payloads],
        }
    )


@router.get(
    "/payloads/{payload_id}",
    summary="A raw payload exactly as received",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_payload(payload_id: int, db: Db, principal: CurrentPrincipal) -> Response:
    require(principal, Permission.MANAGE_SOURCES)
    payload = db.get(RunPayload, payload_id)
    if payload is None:
        raise NotFound(
            f"No payload {payload_id} (past its retention, or never kept).",
            code="payload_not_found",
        )
    return Response(
        payload_body(payload),
        media_type=payload.content_type or "application/octet-stream",
        headers={"X-Content-SHA256": payload.sha256, "Content-Disposition": "attachment"},
    )


class RecordOut(BaseModel):
    key: str
    unit_id: int | None
    data: dict[str, Any]
    run_id: int | None
    payload_id: int | None
    updated_at: datetime


class RecordPage(BaseModel):
    dataset: str
    total: int
    records: list[RecordOut]


@router.get(
    "/datasets/{dataset}/records",
    response_model=RecordPage,
    summary="Records of a dataset (dossiers, hotline cases, documents)",
    description="Within the caller's unit scope (a commune officer sees its own unit's "
    "records). `unit`: a unit code (its subtree); `q`: text anywhere in the record, accents "
    "ignored; `where`: `field:value` (exact; nested fields dotted, e.g. `don_vi.ma:25280`), "
    "repeatable.",
)
def list_records(
    dataset: str,
    db: Db,
    principal: CurrentPrincipal,
    unit: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    where: Annotated[list[str] | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> RecordPage:
    query = record_query(db, principal, dataset, unit=unit, q=q, where=where or [])
    rows = db.scalars(query.limit(limit).offset(offset))
    return RecordPage(
        dataset=dataset,
        total=count_records(db, query),
        records=[
            RecordOut(
                key=row.record_key,
                unit_id=row.unit_id,
                data=row.data,
                run_id=row.run_id,
                payload_id=row.payload_id,
                updated_at=row.updated_at,
            )
            for row in rows
        ],
    )


class DatasetOut(BaseModel):
    dataset: str
    records: int
    updated_at: datetime | None
    schema_confirmed: bool


class FieldOut(BaseModel):
    name: str
    type: str
    filled: float
    examples: list[str]
    label: str | None
    role: str = Field(description="`attribute`, `key`, `unit`, `period` or `measure`.")


class SchemaOut(BaseModel):
    dataset: str
    confirmed_by: str | None
    confirmed_at: datetime | None
    fields: list[FieldOut]


class SchemaIn(BaseModel):
    fields: list[dict[str, Any]]


@router.get("/datasets", response_model=list[DatasetOut], summary="Datasets and their size")
def list_datasets(db: Db, principal: CurrentPrincipal) -> list[DatasetOut]:
    require(principal, Permission.READ_ALL)
    confirmed = set(db.scalars(select(DatasetSchema.dataset)))
    rows = db.execute(
        select(DatasetRecord.dataset, func.count(), func.max(DatasetRecord.updated_at))
        .group_by(DatasetRecord.dataset)
        .order_by(DatasetRecord.dataset)
    )
    return [
        DatasetOut(
            dataset=name, records=total, updated_at=latest, schema_confirmed=name in confirmed
        )
        for name, total, latest in rows
    ]


@router.get(
    "/datasets/{dataset}/schema",
    response_model=SchemaOut,
    summary="A dataset's fields: confirmed, or inferred from its records",
    description="Inferred: each field (nested ones dotted) with its most common type (text, "
    "number, date, boolean, list, object), the share of records that fill it and examples.",
)
def get_schema(dataset: str, db: Db, principal: CurrentPrincipal) -> SchemaOut:
    require(principal, Permission.READ_ALL)
    fields, confirmed = schema_of(db, dataset)
    return SchemaOut(
        dataset=dataset,
        confirmed_by=confirmed.confirmed_by if confirmed else None,
        confirmed_at=confirmed.confirmed_at if confirmed else None,
        fields=[FieldOut.model_validate(field, from_attributes=True) for field in fields],
    )


@router.put(
    "/datasets/{dataset}/schema",
    response_model=SchemaOut,
    summary="Confirm a dataset's fields",
    description="`{fields: [{name, type, label, role}]}`: the fields people see, in order, "
    "with their Vietnamese labels and roles (`attribute`, `key`, `unit`, `period`, "
    "`measure`); each must be a field of the records (`manage_sources`; audited).",
)
def put_schema(dataset: str, body: SchemaIn, db: Db, principal: CurrentPrincipal) -> SchemaOut:
    require(principal, Permission.MANAGE_SOURCES)
    confirm_schema(db, dataset, body.fields, principal)
    db.commit()
    return get_schema(dataset, db, principal)


@router.get(
    "/provenance",
    summary="Where a stored figure came from",
    description="For a data value (element, unit, period, option): its source, the run, the raw "
    "payload and the record(s) in it that produced the value. Values typed or imported by "
    "people answer with who stored them.",
)
def provenance(
    request: Request,
    db: Db,
    principal: CurrentPrincipal,
    element: str,
    unit: str,
    period: str,
    option: str = "",
) -> dict[str, Any]:
    return trace_value(
        db, principal, element=element, unit=unit, period=period, option=option,
        province_code=get_runtime(request).settings.province_code,
    )  # fmt: skip


class ReadingOut(BaseModel):
    device: str
    metric: str
    unit: str | None
    at: datetime
    value: float


@router.get(
    "/sensors/readings",
    response_model=list[ReadingOut],
    summary="Sensor readings (time series from MQTT sources)",
    description="Newest first, within my unit scope; `unit` (a code, its subtree), `metric` "
    "(e.g. `water_level`), `device`, `since` (ISO time) narrow it down.",
)
def list_readings(
    db: Db,
    principal: CurrentPrincipal,
    unit: str | None = None,
    metric: str | None = None,
    device: str | None = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[ReadingOut]:
    query = (
        select(SensorReading, Unit.code)
        .outerjoin(Unit, Unit.id == SensorReading.unit_id)
        .where(principal.read_scope.where(SensorReading.unit_id))
        .order_by(SensorReading.at.desc())
        .limit(limit)
    )
    if unit:
        found = find_unit(db, unit)
        ids = subtree_ids(db, found) if found is not None else frozenset()
        if ids is not None:
            query = query.where(SensorReading.unit_id.in_(ids))
    if metric:
        query = query.where(SensorReading.metric == metric)
    if device:
        query = query.where(SensorReading.device == device)
    if since:
        query = query.where(SensorReading.at >= since)
    return [
        ReadingOut(device=r.device, metric=r.metric, unit=code, at=r.at, value=r.value)
        for r, code in db.execute(query)
    ]
