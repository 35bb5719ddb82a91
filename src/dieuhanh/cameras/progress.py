"""Integration progress: for each commune/ward (and department), what it declared, registered,
and what is live — the "11/95 connected" the province follows, and the list it sends out."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dieuhanh.cameras.models import Camera, CameraDeclaration, CameraStatus
from dieuhanh.core.access import Principal
from dieuhanh.units.models import Unit
from dieuhanh.units.types import COMMUNE_LEVEL, UnitType

# A unit's stage, from nothing to connected.
NONE, DECLARED, REGISTERED, CONNECTED = "none", "declared", "registered", "connected"


@dataclass
class UnitProgress:
    code: str
    name: str
    type: str
    declared: int = 0  # cameras declared in the survey
    registered: int = 0  # cameras with a stream URL in the registry
    live: int = 0
    dead: int = 0
    top_reason: str | None = None  # the commonest reason among its dead cameras

    @property
    def stage(self) -> str:
        if self.live:
            return CONNECTED
        if self.registered:
            return REGISTERED
        return DECLARED if self.declared else NONE

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "stage": self.stage}


def province_progress(session: Session, province: Unit, principal: Principal) -> list[UnitProgress]:
    wanted = [t.value for t in (*COMMUNE_LEVEL, UnitType.DEPARTMENT)]
    units = session.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.type)
        .where(
            Unit.parent_id == province.id,
            Unit.type.in_(wanted),
            principal.read_scope.where(Unit.id),
        )
        .order_by(Unit.name_key)
    ).all()
    # Communes and wards first (what the province counts), then departments.
    units = sorted(units, key=lambda row: row[3] == UnitType.DEPARTMENT.value)
    progress = {uid: UnitProgress(code, name, utype) for uid, code, name, utype in units}
    ids = list(progress)
    for unit_id, declared in session.execute(
        select(CameraDeclaration.unit_id, func.sum(CameraDeclaration.count))
        .where(CameraDeclaration.unit_id.in_(ids))
        .group_by(CameraDeclaration.unit_id)
    ):
        progress[unit_id].declared = int(declared or 0)
    state = func.coalesce(CameraStatus.state, "unknown")
    for unit_id, camera_state, count in session.execute(
        select(Camera.unit_id, state, func.count())
        .outerjoin(CameraStatus, CameraStatus.camera_id == Camera.id)
        .where(Camera.unit_id.in_(ids))
        .group_by(Camera.unit_id, state)
    ):
        entry = progress[unit_id]
        entry.registered += count
        if camera_state == "live":
            entry.live += count
        elif camera_state == "dead":
            entry.dead += count
    for unit_id, reason, _count in session.execute(
        select(Camera.unit_id, CameraStatus.reason, func.count())
        .join(CameraStatus, CameraStatus.camera_id == Camera.id)
        .where(Camera.unit_id.in_(ids), CameraStatus.state == "dead")
        .group_by(Camera.unit_id, CameraStatus.reason)
        .order_by(func.count().desc())
    ):
        progress[unit_id].top_reason = progress[unit_id].top_reason or reason
    return list(progress.values())


def totals(rows: list[UnitProgress]) -> dict[str, int]:
    communes = [r for r in rows if r.type != UnitType.DEPARTMENT.value]
    return {
        "units": len(communes),
        "connected": sum(r.stage == CONNECTED for r in communes),
        "registered": sum(r.stage == REGISTERED for r in communes),
        "declared": sum(r.stage == DECLARED for r in communes),
        "none": sum(r.stage == NONE for r in communes),
        "cameras_declared": sum(r.declared for r in rows),
        "cameras_registered": sum(r.registered for r in rows),
        "cameras_live": sum(r.live for r in rows),
        "cameras_dead": sum(r.dead for r in rows),
    }


NEXT_STEP_VI = {
    NONE: "Chưa khai báo camera: đề nghị khai báo theo biểu mẫu khảo sát.",
    DECLARED: "Đã khai báo {declared} camera nhưng chưa cung cấp đường dẫn luồng: đề nghị cung cấp "
    "đường dẫn RTSP và thông tin kết nối.",
    REGISTERED: "Đã đăng ký {registered} luồng nhưng chưa luồng nào hoạt động ({reason}): đề nghị "
    "kiểm tra thiết bị và đường truyền.",
}
REASON_VI = {
    "dns": "sai tên máy chủ", "refused": "bị từ chối kết nối", "timeout": "không phản hồi",
    "unauthorized": "sai tài khoản/mật khẩu", "not_found": "sai đường dẫn kênh",
    "protocol_error": "lỗi giao thức", "no_video": "không có hình", "unsupported_codec":
    "chuẩn nén không hỗ trợ", "stalled": "luồng bị ngắt", "frozen": "hình bị đứng",
    "black": "hình đen", "network_refused": "địa chỉ ngoài mạng camera được phép",
}  # fmt: skip


def lagging_csv(rows: list[UnitProgress]) -> bytes:
    """The list the province sends to the units not yet connected, with each one's next step."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "Mã đơn vị",
            "Tên đơn vị",
            "Tình trạng",
            "Camera khai báo",
            "Luồng đăng ký",
            "Luồng hoạt động",
            "Việc cần làm",
        ]
    )
    for row in rows:
        if row.stage == CONNECTED or row.type == UnitType.DEPARTMENT.value:
            continue
        step = NEXT_STEP_VI[row.stage].format(
            declared=row.declared, registered=row.registered,
            reason=REASON_VI.get(row.top_reason or "", "chưa kiểm tra"))  # fmt: skip
        writer.writerow(
            [row.code, row.name, row.stage, row.declared, row.registered, row.live, step]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
