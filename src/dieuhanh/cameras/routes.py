"""HTTP API of cameras: the registry, status, probes, history, summary."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Response
from sqlalchemy import select

from dieuhanh.cameras import history, service
from dieuhanh.cameras.models import CameraStateChange, Purpose, Reason, State
from dieuhanh.cameras.monitor import HealthMonitor
from dieuhanh.cameras.schemas import (
    CameraCreate,
    CameraFields,
    CameraOut,
    ChangeOut,
    DayOut,
    HistoryOut,
    StatusOut,
)
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.runtime import Runtime
from dieuhanh.units.service import get_unit

router = api_router("cameras")
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def registry(runtime: Runtime) -> service.Registry:
    return service.Registry(cipher=runtime.credentials, settings=runtime.settings.cameras)


@router.get(
    "/cameras",
    response_model=list[CameraOut],
    summary="Cameras within my scope",
    description="Filters: unit, state (live/dead/unknown), reason, codec, purpose, q "
    "(name/address, diacritics optional). The total is in `X-Total-Count`.",
)
def list_cameras(
    db: Db,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    response: Response,
    unit: Annotated[str | None, Query(max_length=32)] = None,
    state: State | None = None,
    reason: Reason | None = None,
    codec: Annotated[str | None, Query(max_length=30)] = None,
    purpose: Purpose | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CameraOut]:
    flt = service.CameraFilter(
        unit_id=get_unit(db, unit).id if unit else None,
        state=state.value if state else None,
        reason=reason.value if reason else None,
        codec=codec,
        purpose=purpose.value if purpose else None,
        q=q,
    )
    cameras, total = service.list_cameras(db, principal, flt, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    return [CameraOut.of(camera, runtime.credentials) for camera in cameras]


@router.get("/cameras/summary", summary="Live/dead counts by unit, codec and reason")
def camera_summary(db: Db, principal: CurrentPrincipal) -> dict[str, object]:
    return service.summary(db, principal)


@router.post("/cameras", response_model=CameraOut, status_code=201, summary="Register a camera")
def create_camera(
    body: CameraCreate, db: Db, principal: CurrentPrincipal, runtime: RuntimeDep
) -> CameraOut:
    camera = service.create_camera(db, registry(runtime), principal, body.changes())
    db.commit()
    return CameraOut.of(camera, runtime.credentials)


@router.get(
    "/cameras/{camera_id:int}", response_model=CameraOut, summary="One camera and its status"
)
def read_camera(
    camera_id: int, db: Db, principal: CurrentPrincipal, runtime: RuntimeDep
) -> CameraOut:
    return CameraOut.of(service.get_camera(db, camera_id, principal), runtime.credentials)


@router.patch("/cameras/{camera_id:int}", response_model=CameraOut, summary="Change a camera")
def update_camera(
    camera_id: int, body: CameraFields, db: Db, principal: CurrentPrincipal, runtime: RuntimeDep
) -> CameraOut:
    camera = service.get_camera(db, camera_id, principal, "write")
    service.update_camera(db, registry(runtime), principal, camera, body.changes())
    db.commit()
    return CameraOut.of(camera, runtime.credentials)


@router.delete("/cameras/{camera_id:int}", status_code=204, summary="Remove a camera")
def delete_camera(camera_id: int, db: Db, principal: CurrentPrincipal) -> Response:
    db.delete(service.get_camera(db, camera_id, principal, "write"))
    db.commit()
    return Response(status_code=204)


@router.post(
    "/cameras/{camera_id:int}/probe",
    response_model=StatusOut,
    summary="Probe the stream now (with a picture check) and return its status",
    description="For those who may change the camera: a probe makes the server connect out.",
)
def probe_camera(
    camera_id: int, db: Db, principal: CurrentPrincipal, runtime: RuntimeDep
) -> StatusOut:
    # Write access, not read: a probe opens a connection from the server on demand, and a
    # read-only viewer could otherwise make it knock on a camera as often as they like.
    camera = service.get_camera(db, camera_id, principal, "write")
    HealthMonitor(runtime).probe_now(db, camera)
    db.commit()
    return StatusOut.of(camera.status)


@router.get(
    "/cameras/{camera_id:int}/history",
    response_model=HistoryOut,
    summary="Uptime per day, state changes, flapping",
)
def camera_history(
    camera_id: int,
    db: Db,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    days: Annotated[int, Query(ge=1, le=90)] = 7,
) -> HistoryOut:
    camera = service.get_camera(db, camera_id, principal)
    now = utcnow()
    zone = ZoneInfo(runtime.settings.timezone)
    changes = db.scalars(
        select(CameraStateChange)
        .where(CameraStateChange.camera_id == camera.id)
        .order_by(CameraStateChange.at.desc())
        .limit(100)
    ).all()
    return HistoryOut(
        days=[
            DayOut(
                day=d.day.isoformat(),
                uptime_percent=d.uptime_percent,
                live_seconds=d.live_seconds,
                dead_seconds=d.dead_seconds,
                changes=d.changes,
            )
            for d in history.daily_uptime(db, camera.id, days, now, zone)
        ],
        changes=[ChangeOut.model_validate(c, from_attributes=True) for c in changes],
        flaps_24h=history.flaps(db, camera.id, now),
        last_change_at=history.last_change(db, camera.id),
    )
