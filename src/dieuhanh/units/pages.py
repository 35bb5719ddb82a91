"""Pages of units: the list with search, and a unit's own page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dieuhanh.core.access import Principal, authorize
from dieuhanh.core.errors import DieuhanhError
from dieuhanh.core.http.deps import Db, get_runtime
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.web.shell import NavItem, PagePrincipal, check_form_csrf, render
from dieuhanh.units import service
from dieuhanh.units.models import Unit
from dieuhanh.units.search import search_units
from dieuhanh.units.types import COMMUNE_LEVEL, UnitType

router = APIRouter(include_in_schema=False)
NAV = [NavItem("/units", "nav.units", order=20)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

# Extension point: what other capabilities show on a unit's page (its accounts, its boundary,
# its recent changes). Each contribution is a ``UnitPageContext`` returning template variables;
# the units capability, below them all, never imports them.
UNIT_PAGE_CONTEXT = "units.unit_page_context"
UnitPageContext = Callable[[Db, Unit, Principal], dict[str, Any]]
UNIT_PAGE_DEFAULTS: dict[str, Any] = {"boundary": None, "members": [], "changes": []}


@router.get("/units", response_class=HTMLResponse)
def units_page(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    runtime: RuntimeDep,
    q: str = "",
    tab: str = "communes",
) -> Response:
    province = service.get_unit(db, runtime.settings.province_code)
    types = frozenset({UnitType.DEPARTMENT}) if tab == "departments" else COMMUNE_LEVEL
    if q.strip():
        units = [m.unit for m in search_units(db, q[:200], within=province, types=types, limit=200)]
    else:
        units = service.children(db, province, types)
    counts = service.count_children(db, province)
    return render(
        request,
        "units/list.html",
        principal,
        units=units,
        q=q[:200],
        tab=tab,
        province=province,
        commune_count=sum(counts.get(t.value, 0) for t in COMMUNE_LEVEL),
        department_count=counts.get(UnitType.DEPARTMENT.value, 0),
    )


@router.get("/units/{code}", response_class=HTMLResponse)
def unit_page(
    request: Request,
    code: str,
    db: Db,
    principal: PagePrincipal,
    runtime: RuntimeDep,
    message: str | None = None,
    error: str | None = None,
) -> Response:
    unit = service.get_unit_detail(db, code)
    can_edit = principal.write_scope.allows(unit.id)
    contributed = dict(UNIT_PAGE_DEFAULTS)
    for contribute in runtime.extensions.of(UNIT_PAGE_CONTEXT):
        contributed.update(contribute(db, unit, principal))  # type: ignore[operator]
    kids = (
        service.children(db, unit, frozenset(UnitType))
        if UnitType(unit.type).is_province_level
        else []
    )
    return render(
        request,
        "units/detail.html",
        principal,
        unit=unit,
        can_edit=can_edit,
        children=kids,
        **contributed,
        message=message,
        error=error,
    )


@router.post("/units/{code}", response_class=HTMLResponse)
def unit_profile_submit(
    code: str,
    db: Db,
    principal: PagePrincipal,
    csrf_token: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    website: Annotated[str, Form()] = "",
) -> Response:
    check_form_csrf(principal, csrf_token)
    unit = service.get_unit(db, code)
    authorize(principal, "write", unit.id, unit.name)
    try:
        service.update_profile(
            unit, {"address": address, "phone": phone, "email": email, "website": website}
        )
        db.commit()
    except DieuhanhError as exc:
        db.rollback()
        return RedirectResponse(f"/units/{unit.code}?error={exc.code}", status_code=303)
    return RedirectResponse(f"/units/{unit.code}?message=saved", status_code=303)


def province_name(request: Request) -> str:
    """The operating province's name for every page's header, looked up once per process (the
    province is not renamed while it runs)."""
    state = request.app.state
    if getattr(state, "province_name", None) is None:
        runtime = get_runtime(request)
        with runtime.sessions() as session:
            unit = service.find_unit(session, runtime.settings.province_code)
            state.province_name = unit.name if unit else runtime.settings.province_code
    return str(state.province_name)
