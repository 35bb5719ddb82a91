"""HTTP API of data values: DHIS2 dataValueSets import/export, one value at a time (what the
entry page saves on each field), and a value's history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, BinaryIO, Literal

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dieuhanh.core.access import Principal, authorize
from dieuhanh.core.errors import Conflict, DieuhanhError, Forbidden, InvalidInput, NotFound
from dieuhanh.core.http.deps import CurrentPrincipal, Db, client_ip, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.uploads import ImportBody
from dieuhanh.indicators.catalog.catalog import Catalog, option_code
from dieuhanh.indicators.catalog.models import DataValue, DataValueChange, Source, in_period_codes
from dieuhanh.indicators.catalog.schemas import ChangeOut, DataValueIn, DataValueOut
from dieuhanh.indicators.values import datavaluesets
from dieuhanh.indicators.values.dvsformat import csv_chunks, json_chunks
from dieuhanh.indicators.values.save import Strategy, ValueConflict, ValueRow, save_values

router = api_router("data values")
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
MAX_IMPORT_BYTES = 100 * 1024 * 1024
IMPORT_BODY = ImportBody(MAX_IMPORT_BYTES)
CSV_TYPES = ("text/csv", "application/csv", "text/plain", "text/tab-separated-values")

IMPORT_BODY_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object"},
                "example": {
                    "dataSet": "COMMUNE_MONTHLY",
                    "period": "202603",
                    "orgUnit": "25280",
                    "completeDate": "2026-04-02",
                    "dataValues": [
                        {"dataElement": "DOSSIERS_PROCESSED", "categoryOptionCombo": "ONLINE",
                         "value": "120"},
                    ],
                },
            },
            "text/csv": {
                "schema": {"type": "string"},
                "example": "dataelement,period,orgunit,catoptcombo,attroptcombo,value,storedby,"
                "lastupdated,comment,followup\nDOSSIERS_PROCESSED,202603,25280,ONLINE,,120,,,,\n",
            },
        },
    }
}  # fmt: skip


def _split(values: list[str] | None, separators: str = ",;") -> list[str]:
    parts: list[str] = []
    for value in values or []:
        for separator in separators[1:]:
            value = value.replace(separator, separators[0])
        parts.extend(p.strip() for p in value.split(separators[0]) if p.strip())
    return parts


def _source(principal: Principal) -> str:
    # The web UI posts from the entry page; a bearer token is another program.
    return Source.FORM if principal.via == "web" else Source.API


@router.post(
    "/dataValueSets",
    summary="Import values (DHIS2 dataValueSets, JSON or CSV by Content-Type)",
    description="JSON `{dataSet, completeDate, period, orgUnit, dataValues: [{dataElement, "
    "categoryOptionCombo, period, orgUnit, value, comment}]}` or CSV with the columns "
    "`dataelement,period,orgunit,catoptcombo,attroptcombo,value,storedby,lastupdated,comment,"
    "followup` (header optional; UTF-8, or UTF-16 with BOM). Codes are the identifiers. Returns "
    "an import summary `{status, importCount: {imported, updated, ignored, deleted}, conflicts: "
    "[{object, property, value, errorCode, message, row}], dryRun}`: good rows are stored, bad "
    "rows are listed. At most 100 MB.",
    openapi_extra=IMPORT_BODY_SCHEMA | {"x-max-body-bytes": MAX_IMPORT_BYTES},
)
async def import_values(
    request: Request,
    db: Db,
    principal: CurrentPrincipal,
    # Read once the login is checked: the dependency depends on the principal.
    data: Annotated[BinaryIO, Depends(IMPORT_BODY)],
    dry_run: Annotated[bool, Query(alias="dryRun")] = False,
    strategy: Annotated[
        str,
        Query(alias="importStrategy", description="CREATE_AND_UPDATE, CREATE, UPDATE, DELETE"),
    ] = "CREATE_AND_UPDATE",
    data_set: Annotated[str | None, Query(alias="dataSet", max_length=50)] = None,
    filename: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    try:
        chosen = Strategy(strategy.lower())
    except ValueError:
        raise InvalidInput(
            f"importStrategy '{strategy}': use CREATE_AND_UPDATE, CREATE, UPDATE or DELETE.",
            code="invalid_strategy",
        ) from None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt: Literal["json", "csv"] = "csv" if content_type in CSV_TYPES else "json"
    detail = filename or f"{principal.via} {client_ip(request)}"
    summary = await run_in_threadpool(
        datavaluesets.import_data_value_set,
        db,
        principal,
        data,
        fmt=fmt,
        filename=filename,
        source=Source.IMPORT,
        source_detail=detail,
        dry_run=dry_run,
        strategy=chosen,
        data_set=data_set,
    )
    await run_in_threadpool(db.rollback if dry_run else db.commit)
    return summary.to_json()


@router.get(
    "/dataValueSets",
    summary="Export values (DHIS2 dataValueSets, JSON or CSV)",
    description="Which elements: dataSet (a form code) and/or dataElement (codes). Which "
    "periods: period (codes) or startDate and endDate. Which units: orgUnit (codes; with "
    "children=true their subtrees), default every unit you may read. The output imports back "
    "unchanged.",
    response_model=None,
)
def export_values(
    db: Db,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    data_set: Annotated[str | None, Query(alias="dataSet", max_length=50)] = None,
    data_element: Annotated[list[str] | None, Query(alias="dataElement")] = None,
    period: Annotated[list[str] | None, Query()] = None,
    start_date: Annotated[date | None, Query(alias="startDate")] = None,
    end_date: Annotated[date | None, Query(alias="endDate")] = None,
    org_unit: Annotated[list[str] | None, Query(alias="orgUnit")] = None,
    children: bool = False,
    format: Literal["json", "csv"] = "json",
) -> StreamingResponse:
    query = datavaluesets.ExportQuery(
        data_set=data_set,
        elements=_split(data_element),
        periods=_split(period),
        start=start_date,
        end=end_date,
        units=_split(org_unit),
        children=children,
    )
    statement = datavaluesets.export_statement(db, principal, query)

    def stream() -> Iterator[str]:
        # Its own session: the request's is closed before a streamed body is sent.
        with runtime.sessions() as session:
            rows = datavaluesets.export_rows(session, statement)
            yield from csv_chunks(rows) if format == "csv" else json_chunks(rows, data_set)

    if format == "csv":
        return StreamingResponse(
            stream(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="dataValueSet.csv"'},
        )
    return StreamingResponse(stream(), media_type="application/json")


@router.put(
    "/dataValues",
    response_model=DataValueOut,
    summary="Save one value (what the entry page calls on each field)",
    description="An empty value deletes. Errors: 403 out of your units, 409 entry closed or "
    "approved, 422 a wrong code, period or value.",
)
def put_value(
    body: DataValueIn, request: Request, db: Db, principal: CurrentPrincipal
) -> DataValueOut:
    return _save_one(db, principal, body, request)


@router.delete("/dataValues", response_model=DataValueOut, summary="Delete one value")
def delete_value(
    request: Request,
    db: Db,
    principal: CurrentPrincipal,
    de: Annotated[str, Query(max_length=50)],
    pe: Annotated[str, Query(max_length=12)],
    ou: Annotated[str, Query(max_length=32)],
    co: Annotated[str | None, Query(max_length=50)] = None,
) -> DataValueOut:
    return _save_one(db, principal, DataValueIn(de=de, pe=pe, ou=ou, co=co, value=None), request)


def _save_one(
    db: Session, principal: Principal, body: DataValueIn, request: Request
) -> DataValueOut:
    row = ValueRow(
        element=body.de, unit=body.ou, period=body.pe, option=body.co, value=body.value or None,
        comment=body.comment, row=1,
    )  # fmt: skip
    # One catalog for the check and the answer: this runs on every field the entry page saves.
    catalog = Catalog.load(db, [body.de], [body.ou])
    summary = save_values(
        db, principal, [row], source=_source(principal), source_detail=client_ip(request),
        catalog=catalog,
    )  # fmt: skip
    if summary.conflicts:
        db.rollback()
        raise _error_of(summary.conflicts[0])
    db.commit()
    return _value_out(db, principal, body, catalog)


def _error_of(conflict: ValueConflict) -> DieuhanhError:
    details = [conflict.to_json()]
    if conflict.error_code == "out_of_scope":
        return Forbidden(conflict.message, code="out_of_scope", details=details)
    if conflict.error_code in ("approved", "expired", "not_started"):
        return Conflict(conflict.message, code=f"entry_{conflict.error_code}", details=details)
    return InvalidInput(conflict.message, code=conflict.error_code, details=details)


def _value_key(
    catalog: Catalog, principal: Principal, de: str, pe: str, ou: str, co: str | None
) -> tuple[int, int, str, str]:
    element, unit = catalog.element(de), catalog.unit(ou)
    if element is None:
        raise NotFound(f"No data element with code '{de}'.", code="data_element_not_found")
    if unit is None:
        raise NotFound(f"No unit with code '{ou}'.", code="unit_not_found")
    authorize(principal, "read", unit.id, unit.name)
    try:
        option = option_code(element, co)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_option") from None
    return element.id, unit.id, pe.strip(), option


def _value_out(
    db: Session, principal: Principal, body: DataValueIn, catalog: Catalog
) -> DataValueOut:
    element_id, unit_id, period, option = _value_key(
        catalog, principal, body.de, body.pe, body.ou, body.co
    )
    value = db.scalar(
        select(DataValue).where(
            DataValue.element_id == element_id,
            in_period_codes([period]),
            DataValue.unit_id == unit_id,
            DataValue.option == option,
        )
    )
    count = db.scalar(
        select(func.count())
        .select_from(DataValueChange)
        .where(
            DataValueChange.element_id == element_id,
            DataValueChange.unit_id == unit_id,
            DataValueChange.period_code == period,
            DataValueChange.option == option,
        )
    )
    return DataValueOut(
        data_element=body.de,
        period=period,
        org_unit=body.ou,
        category_option_combo=option or None,
        value=value.value if value else None,
        comment=value.comment if value else None,
        stored_by=value.stored_by if value else None,
        last_updated=value.updated_at.isoformat() if value else None,
        history_count=count or 0,
    )


@router.get(
    "/dataValues/history",
    response_model=list[ChangeOut],
    summary="Every change of one value: who, when, from where, old → new (newest first)",
)
def value_history(
    db: Db,
    principal: CurrentPrincipal,
    de: Annotated[str, Query(max_length=50)],
    pe: Annotated[str, Query(max_length=12)],
    ou: Annotated[str, Query(max_length=32)],
    co: Annotated[str | None, Query(max_length=50)] = None,
) -> list[ChangeOut]:
    element_id, unit_id, period, option = _value_key(
        Catalog.load(db, [de], [ou]), principal, de, pe, ou, co
    )
    changes = db.scalars(
        select(DataValueChange)
        .where(
            DataValueChange.element_id == element_id,
            DataValueChange.unit_id == unit_id,
            DataValueChange.period_code == period,
            DataValueChange.option == option,
        )
        .order_by(DataValueChange.changed_at.desc(), DataValueChange.id.desc())
    )
    return [
        ChangeOut(
            action=c.action,
            old_value=c.old_value,
            new_value=c.new_value,
            source=c.source,
            source_detail=c.source_detail,
            changed_by=c.changed_by,
            changed_at=c.changed_at.isoformat(),
        )
        for c in changes
    ]
