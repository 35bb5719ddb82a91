"""The data hub's pages: every source with its state and latest runs, a dataset's records, an
upload, and the reconciliations (đối soát) with their differences and resolutions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from dieuhanh.core.access import Permission, require
from dieuhanh.core.errors import NotFound
from dieuhanh.core.http.deps import Db
from dieuhanh.core.web.shell import NavItem, PagePrincipal, render
from dieuhanh.datahub.connectors.upload import UploadConfig
from dieuhanh.datahub.datasets import count, record_query, schema_of
from dieuhanh.datahub.models import (
    DatasetAggregate,
    DatasetRecord,
    DataSource,
    MismatchState,
    Reconciliation,
    ReconciliationMismatch,
    SourceRun,
    SourceState,
)
from dieuhanh.datahub.reconcile import mismatches
from dieuhanh.datahub.runs import get_source

router = APIRouter(include_in_schema=False)
NAV = [NavItem("/datahub", "nav.datahub", permission=Permission.READ_ALL, order=45)]
RUNS_SHOWN = 5


@router.get("/datahub", response_class=HTMLResponse)
def datahub_status(request: Request, db: Db, principal: PagePrincipal) -> Response:
    require(principal, Permission.READ_ALL)
    sources = list(db.scalars(select(DataSource).order_by(DataSource.code)))
    runs = {
        source.id: list(
            db.scalars(
                select(SourceRun)
                .where(SourceRun.source_id == source.id)
                .order_by(SourceRun.id.desc())
                .limit(RUNS_SHOWN)
            )
        )
        for source in sources
    }
    counts = {state.value: sum(s.state == state for s in sources) for state in SourceState}
    datasets = db.execute(
        select(DatasetRecord.dataset, func.count())
        .group_by(DatasetRecord.dataset)
        .order_by(DatasetRecord.dataset)
    ).all()
    return render(
        request,
        "datahub/status.html",
        principal,
        sources=sources,
        runs=runs,
        counts=counts,
        datasets=datasets,
        can_run=principal.can(Permission.MANAGE_SOURCES),
    )


@router.get("/datahub/sources/{code}/upload", response_class=HTMLResponse)
def upload_page(code: str, request: Request, db: Db, principal: PagePrincipal) -> Response:
    """Send a file to an upload source: a preview of every row first, then the import."""
    require(principal, Permission.WRITE_OWN)
    source = get_source(db, code)
    if source.kind != "upload":
        raise NotFound(f"Data source '{code}' takes no files.", code="not_an_upload_source")
    columns = UploadConfig.model_validate(source.config).columns
    return render(request, "datahub/upload.html", principal, source=source, columns=columns)


PAGE_SIZE = 50
COLUMNS_SHOWN = 8


@router.get("/datahub/datasets/{dataset}", response_class=HTMLResponse)
def dataset_page(
    dataset: str,
    request: Request,
    db: Db,
    principal: PagePrincipal,
    q: Annotated[str, Query(max_length=200)] = "",
    unit: Annotated[str, Query(max_length=32)] = "",
    where: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """A dataset's records within the reader's scope, with its (confirmed) fields as columns."""
    fields, confirmed = schema_of(db, dataset)
    query = record_query(
        db, principal, dataset, unit=unit or None, q=q or None, where=[where] if where else []
    )
    total = count(db, query)
    rows = db.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    columns = fields[:COLUMNS_SHOWN]
    return render(
        request,
        "datahub/dataset.html",
        principal,
        dataset=dataset,
        columns=columns,
        confirmed=confirmed,
        rows=[[_cell(row.data, column.name) for column in columns] for row in rows],
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        filters={"q": q, "unit": unit, "where": where},
        can_manage=principal.can(Permission.MANAGE_SOURCES),
    )


def _cell(data: Any, name: str) -> str:
    value: Any = data
    for step in name.split("."):
        value = value.get(step) if isinstance(value, dict) else None
    return "" if value is None else str(value)


@router.get("/datahub/reconciliations", response_class=HTMLResponse)
def reconciliations_page(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    saved: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    """Every reconciliation with its open differences, and the aggregates that feed figures;
    ``saved`` names the declaration just saved by the forms."""
    require(principal, Permission.READ_ALL)
    rows = list(db.scalars(select(Reconciliation).order_by(Reconciliation.code)))
    open_counts = dict(
        db.execute(
            select(ReconciliationMismatch.reconciliation_id, func.count())
            .where(ReconciliationMismatch.state == MismatchState.OPEN)
            .group_by(ReconciliationMismatch.reconciliation_id)
        ).all()
    )
    return render(
        request,
        "datahub/reconciliations.html",
        principal,
        reconciliations=rows,
        open_counts=open_counts,
        aggregates=list(db.scalars(select(DatasetAggregate).order_by(DatasetAggregate.code))),
        can_run=principal.can(Permission.MANAGE_SOURCES),
        saved=saved,
    )


@router.get("/datahub/reconciliations/{code}", response_class=HTMLResponse)
def reconciliation_page(
    code: str,
    request: Request,
    db: Db,
    principal: PagePrincipal,
    state: Annotated[MismatchState | None, Query()] = None,
) -> Response:
    """One reconciliation's differences (open first) within the reader's scope, each with its
    history: first and last seen, and who resolved it how."""
    found = mismatches(db, principal, code, state)
    row = db.scalar(select(Reconciliation).where(Reconciliation.code == code))
    return render(
        request,
        "datahub/reconciliation.html",
        principal,
        reconciliation=row,
        mismatches=found,
        state=state.value if state else "",
        can_resolve=principal.can(Permission.MANAGE_SOURCES),
    )
