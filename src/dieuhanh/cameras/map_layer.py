"""The cameras' layer of the operations map: every enabled camera with coordinates, coloured by
the health monitor's state; a click opens its live player."""

from __future__ import annotations

from sqlalchemy import func, select

from dieuhanh.cameras.models import Camera, CameraStatus, State
from dieuhanh.cameras.topics import STATE_CHANGED
from dieuhanh.gis.layers import LayerClass, LayerData, LayerRequest, MapLayer, point_row
from dieuhanh.units.models import Unit


def camera_features(request: LayerRequest) -> LayerData:
    # Columns, not ORM objects: a Camera loads its unit and status eagerly, which for a
    # thousand cameras is a thousand objects nobody needs here (one query either way).
    state = func.coalesce(CameraStatus.state, State.UNKNOWN.value)
    rows = request.session.execute(
        select(Camera.id, Camera.lat, Camera.lon, Unit.code, state, Camera.name)
        .join(Unit, Unit.id == Camera.unit_id)
        .outerjoin(CameraStatus, CameraStatus.camera_id == Camera.id)
        .where(
            Camera.enabled.is_(True),
            Camera.lat.is_not(None),
            Camera.lon.is_not(None),
            request.principal.read_scope.where(Camera.unit_id),
        )
        .order_by(Camera.id)
    )
    return LayerData([point_row(*row) for row in rows])


LAYER = MapLayer(
    code="cameras",
    title_vi="Camera theo trạng thái",
    title_en="Cameras by state",
    kind="points",
    topics=(STATE_CHANGED,),
    features=camera_features,
    classes=(
        LayerClass(State.DEAD.value, "Mất tín hiệu", "No signal", "#d7263d"),
        LayerClass(State.UNKNOWN.value, "Chưa rõ", "Unknown", "#8a94a6"),
        LayerClass(State.LIVE.value, "Đang hoạt động", "Live", "#1b9e4b"),
    ),
    link="/cameras/{id}/live",
    order=10,
)
