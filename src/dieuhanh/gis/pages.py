"""The province map: the first page after login."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from dieuhanh.core.access import Principal
from dieuhanh.core.http.deps import Db, get_runtime
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.web.shell import NavItem, PagePrincipal, render
from dieuhanh.gis.service import current_boundary
from dieuhanh.units.models import Unit
from dieuhanh.units.service import get_unit

router = APIRouter(include_in_schema=False)
NAV = [NavItem("/", "nav.map", order=10)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@router.get("/", response_class=HTMLResponse)
def province_map(
    request: Request, db: Db, principal: PagePrincipal, runtime: RuntimeDep
) -> Response:
    province = get_unit(db, runtime.settings.province_code)
    return render(
        request, "gis/map.html", principal, province=province, map_settings=runtime.settings.map
    )


def unit_boundary(db: Session, unit: Unit, principal: Principal) -> dict[str, object]:
    """The unit's current boundary, for its page (``units.unit_page_context``)."""
    return {"boundary": current_boundary(db, unit)}
