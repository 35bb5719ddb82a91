"""The province map: the first page after login."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from dieuhanh.core.http.deps import Db, get_runtime
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.web.shell import NavItem, PagePrincipal, render
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
