"""Pages for watching cameras: one camera live, the camera map, the grid, the video wall.

The pages are shells: the video itself is played in the browser (``static/js/player.js``) from
the stream API, which checks again who may see which camera.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from dieuhanh.cameras import service
from dieuhanh.cameras.models import Camera, Reason, State
from dieuhanh.core.access import Principal
from dieuhanh.core.http.deps import Db, get_runtime
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.web.shell import NavItem, PagePrincipal, render
from dieuhanh.gateway.transcode import TRANSCODE_REASONS
from dieuhanh.units.service import get_unit

router = APIRouter(include_in_schema=False)
NAV = [
    NavItem("/cameras/map", "nav.camera_map", order=31),
    NavItem("/cameras/grid", "nav.camera_grid", order=32),
]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
MAX_CAMERAS = 5000  # what one page lists for choosing; a province has a few thousand at most


def player_context(runtime: Runtime) -> dict[str, Any]:
    """What ``cameras/player.html`` needs to label a player's states and reasons in words."""
    return {
        # The health monitor's reasons, and the transcoder's own (gateway/transcode.py).
        "player_reasons": [reason.value for reason in Reason] + list(TRANSCODE_REASONS),
        "player_states": [state.value for state in State],
        "timezone": runtime.settings.timezone,
    }


def camera_choices(db: Db, principal: Principal) -> list[dict[str, Any]]:
    """The cameras this person may watch, as the pages' scripts need them (no URLs)."""
    cameras, _ = service.list_cameras(db, principal, service.CameraFilter(), MAX_CAMERAS, 0)
    return [_choice(camera) for camera in cameras if camera.enabled]


def _choice(camera: Camera) -> dict[str, Any]:
    status = camera.status
    return {
        "id": camera.id,
        "name": camera.name,
        "unit_name": camera.unit.name,
        "purpose": camera.purpose,
        "lat": camera.lat,
        "lon": camera.lon,
        "state": (status.state if status else None) or State.UNKNOWN.value,
        "reason": status.reason if status else None,
        "since": status.since.isoformat() if status and status.since else None,
    }


@router.get("/cameras/{camera_id:int}/live", response_class=HTMLResponse)
def camera_live(
    request: Request, camera_id: int, db: Db, principal: PagePrincipal, runtime: RuntimeDep
) -> Response:
    camera = service.get_camera(db, camera_id, principal)
    return render(
        request,
        "cameras/live.html",
        principal,
        camera=camera,
        status=camera.status,
        **player_context(runtime),
    )


@router.get("/cameras/map", response_class=HTMLResponse)
def camera_map(request: Request, db: Db, principal: PagePrincipal, runtime: RuntimeDep) -> Response:
    province = get_unit(db, runtime.settings.province_code)
    return render(
        request,
        "cameras/map.html",
        principal,
        province=province,
        map_settings=runtime.settings.map,
        cameras=camera_choices(db, principal),
        **player_context(runtime),
    )


@router.get("/cameras/grid", response_class=HTMLResponse)
def camera_grid(
    request: Request, db: Db, principal: PagePrincipal, runtime: RuntimeDep
) -> Response:
    return render(
        request,
        "cameras/grid.html",
        principal,
        cameras=camera_choices(db, principal),
        **player_context(runtime),
    )


@router.get("/cameras/wall", response_class=HTMLResponse)
def camera_wall(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    runtime: RuntimeDep,
    layout: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    return render(
        request,
        "cameras/wall.html",
        principal,
        cameras=camera_choices(db, principal),
        pinned_layout=layout,
        **player_context(runtime),
    )
