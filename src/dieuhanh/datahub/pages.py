"""The data hub's status page: every source, its state and why, its latest runs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from dieuhanh.core.access import Permission, require
from dieuhanh.core.errors import NotFound
from dieuhanh.core.http.deps import Db
from dieuhanh.core.web.shell import NavItem, PagePrincipal, render
from dieuhanh.datahub.connectors.upload import UploadConfig
from dieuhanh.datahub.models import DataSource, SourceRun, SourceState
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
    return render(
        request,
        "datahub/status.html",
        principal,
        sources=sources,
        runs=runs,
        counts=counts,
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
