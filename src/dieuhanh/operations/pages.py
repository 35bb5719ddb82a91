"""The operations view's page: the province map with switchable layers and the live panel of
what needs attention now (the wall's main screen)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dieuhanh.core.http.deps import Db, get_runtime
from dieuhanh.core.web.shell import NavItem, PagePrincipal, render
from dieuhanh.units.service import get_unit

router = APIRouter(include_in_schema=False)
NAV = [NavItem("/operations", "nav.operations", order=11)]


@router.get("/operations", response_class=HTMLResponse)
def operations_page(request: Request, db: Db, principal: PagePrincipal) -> Response:
    """A shell: the script asks the API for the layers, their features and the attention list,
    and listens to the stream (so the page and any other client see the same answers)."""
    runtime = get_runtime(request)
    province = get_unit(db, runtime.settings.province_code)
    return render(request, "operations/view.html", principal, province=province,
                  map_settings=runtime.settings.map)  # fmt: skip
