"""Pages of cameras: the list, a camera's status page, registering, the survey, progress."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from dieuhanh.cameras import history, progress, service
from dieuhanh.cameras.models import CameraDeclaration, CameraStateChange, Purpose, Reason, State
from dieuhanh.cameras.survey import TEMPLATE_HEADERS
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.http.deps import Db, get_runtime
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.web.shell import NavItem, PagePrincipal, render
from dieuhanh.units.models import Unit
from dieuhanh.units.service import children, find_unit, get_unit
from dieuhanh.units.types import COMMUNE_LEVEL, UnitType

router = APIRouter(include_in_schema=False)
NAV = [NavItem("/cameras", "nav.cameras", order=30)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _units(db: Db, runtime: Runtime) -> list[Unit]:
    province = get_unit(db, runtime.settings.province_code)
    return children(db, province, frozenset({*COMMUNE_LEVEL, UnitType.DEPARTMENT}))


@router.get("/cameras", response_class=HTMLResponse)
def camera_list(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    runtime: RuntimeDep,
    unit: Annotated[str, Query(max_length=32)] = "",
    state: Annotated[str, Query(max_length=10)] = "",
    reason: Annotated[str, Query(max_length=20)] = "",
    codec: Annotated[str, Query(max_length=30)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    unit_row = find_unit(db, unit) if unit else None
    flt = service.CameraFilter(
        unit_id=unit_row.id if unit_row else (-1 if unit else None),
        state=state if state in {s.value for s in State} else None,
        reason=reason if reason in {r.value for r in Reason} else None,
        codec=codec or None,
        q=q or None,
    )
    cameras, total = service.list_cameras(db, principal, flt, 1000, 0)
    return render(
        request,
        "cameras/list.html",
        principal,
        cameras=cameras,
        total=total,
        summary=service.summary(db, principal),
        units=_units(db, runtime),
        filters={"unit": unit, "state": state, "reason": reason, "codec": codec, "q": q},
        states=list(State),
        reasons=list(Reason),
    )


@router.get("/cameras/new", response_class=HTMLResponse)
def camera_new(request: Request, db: Db, principal: PagePrincipal, runtime: RuntimeDep) -> Response:
    units = [u for u in _units(db, runtime) if principal.write_scope.allows(u.id)]
    return render(
        request,
        "cameras/form.html",
        principal,
        camera=None,
        units=units,
        purposes=list(Purpose),
        shown_url="",
        shown_sub_url="",
    )


@router.get("/cameras/progress", response_class=HTMLResponse)
def camera_progress(
    request: Request, db: Db, principal: PagePrincipal, runtime: RuntimeDep
) -> Response:
    province = get_unit(db, runtime.settings.province_code)
    rows = progress.province_progress(db, province, principal)
    return render(
        request,
        "cameras/progress.html",
        principal,
        province=province,
        rows=rows,
        totals=progress.totals(rows),
    )


@router.get("/cameras/survey", response_class=HTMLResponse)
def camera_survey(
    request: Request, db: Db, principal: PagePrincipal, runtime: RuntimeDep
) -> Response:
    units = [u for u in _units(db, runtime) if principal.write_scope.allows(u.id)]
    declarations = db.scalars(
        select(CameraDeclaration)
        .where(principal.read_scope.where(CameraDeclaration.unit_id))
        .order_by(CameraDeclaration.id.desc())
        .limit(200)
    ).all()
    return render(
        request,
        "cameras/survey.html",
        principal,
        units=units,
        declarations=declarations,
        template_headers=TEMPLATE_HEADERS,
        purposes=list(Purpose),
    )


@router.get("/cameras/{camera_id:int}", response_class=HTMLResponse)
def camera_page(
    request: Request, camera_id: int, db: Db, principal: PagePrincipal, runtime: RuntimeDep
) -> Response:
    camera = service.get_camera(db, camera_id, principal)
    zone = ZoneInfo(runtime.settings.timezone)
    now = utcnow()
    changes = db.scalars(
        select(CameraStateChange)
        .where(CameraStateChange.camera_id == camera.id)
        .order_by(CameraStateChange.at.desc())
        .limit(30)
    ).all()
    shown_url, shown_sub_url = service.shown_urls(camera, runtime.credentials)
    can_edit = principal.write_scope.allows(camera.unit_id)
    units = (
        [u for u in _units(db, runtime) if principal.write_scope.allows(u.id)] if can_edit else []
    )
    return render(
        request,
        "cameras/detail.html",
        principal,
        camera=camera,
        status=camera.status,
        changes=changes,
        days=history.daily_uptime(db, camera.id, 7, now, zone),
        flaps=history.flaps(db, camera.id, now),
        shown_url=shown_url,
        shown_sub_url=shown_sub_url,
        can_edit=can_edit,
        units=units,
        purposes=list(Purpose),
    )
