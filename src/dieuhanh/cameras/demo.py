"""Simulated cameras for `dieuhanh demo`: real RTSP streams on loopback, registered across
communes, live and dead in every way the monitor can tell, plus survey declarations.

The eleven connected communes are those of the Sở KHCN letter of March 2026 (11/95 connected);
other communes have declared cameras, or registered streams that do not work.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.cameras.models import Camera, CameraDeclaration, Purpose
from dieuhanh.cameras.service import Registry, create_camera, open_url, update_camera
from dieuhanh.core.access import Principal
from dieuhanh.core.db.actor import Actor, set_actor
from dieuhanh.core.db.meta import get_meta, set_meta
from dieuhanh.core.runtime import Runtime
from dieuhanh.gis.service import current_boundary
from dieuhanh.simulator import (
    GarbageServer,
    HangServer,
    RefusingPort,
    ServiceThread,
    SimulatedCamera,
    SimulatorThread,
    VideoCodec,
    run_service,
    run_simulator,
)
from dieuhanh.units.models import Unit
from dieuhanh.units.service import get_unit

log = logging.getLogger(__name__)
TAG = "demo"
USER, PASSWORD = "admin", "Demo@2026"
ACTOR = Actor(name="system:demo", via="system")


@dataclass(frozen=True)
class DemoCamera:
    name: str
    unit_code: str
    target: str  # a simulator path, or one of the fault servers: hang, garbage, refused, dns
    purpose: Purpose = Purpose.PUBLIC_SERVICE
    wrong_password: bool = False


def _live(code: str, place: str, number: int, codec: VideoCodec) -> DemoCamera:
    return DemoCamera(f"TTPVHCC {place} – camera {number}", code, f"/{code}/{number}-{codec}")


# (unit code, place name, H.264 or H.265): the eleven connected units, many on new H.265 cameras.
CONNECTED: list[tuple[str, str, VideoCodec]] = [
    ("25280", "Lộc Thạnh", "h265"), ("25292", "Lộc Quang", "h264"), ("25308", "Thiện Hưng", "h265"),
    ("25217", "Phước Long", "h264"), ("25405", "Bom Bo", "h265"), ("25195", "Bình Phước", "h264"),
    ("26380", "Long Hưng", "h265"), ("26329", "Xuân Quế", "h264"), ("26104", "Xuân Lập", "h265"),
    ("26089", "Bình Lộc", "h264"), ("26098", "Bảo Vinh", "h265"),
]  # fmt: skip
DEAD = [
    DemoCamera("Ngã tư Vũng Tàu", "26068", "hang", Purpose.TRAFFIC),
    DemoCamera("TTPVHCC Trấn Biên – sảnh", "26041", "refused"),
    DemoCamera("TTPVHCC Long Thành – sảnh", "26368", "/26368/1-h264", wrong_password=True),
    DemoCamera("TTPVHCC Nhơn Trạch – quầy 2", "26485", "/kenh-khong-ton-tai"),
    DemoCamera("Cầu Hóa An", "26188", "garbage", Purpose.TRAFFIC),
    DemoCamera("Hồ Trị An – đập chính", "26206", "/hotrian-audio-only", Purpose.DAM),
    DemoCamera("TTPVHCC Đồng Xoài – sảnh", "25210", "/dongxoai-nvr-private"),
    DemoCamera("Chợ Phú Riềng", "25264", "/phurieng-stall", Purpose.SECURITY),
    DemoCamera("TTPVHCC Tam Hiệp – quầy 1", "26017", "/tamhiep-frozen"),
    DemoCamera("Bến xe Biên Hòa", "26068", "/bienhoa-black", Purpose.SECURITY),
    DemoCamera("Cửa khẩu Hoàng Diệu", "25405", "dns", Purpose.PORT_BORDER),
]
# Units that declared cameras in the survey but gave no stream yet: (code, count, model, maker).
DECLARED = [
    ("25336", 4, "DS-2CD1043G0-I", "Hikvision"), ("25357", 6, "IPC-HFW1230S", "Dahua"),
    ("25363", 3, "KBN-IP2", "KBVision"), ("26116", 8, "DS-2CD2T47G2", "Hikvision"),
    ("26170", 2, "IPC-HDW1431", "Dahua"), ("26248", 5, "DS-7608NI", "Hikvision"),
    ("26326", 4, "QNO-6012R", "Hanwha"), ("26425", 6, "VNPT-IPC", "VNPT Technology"),
    ("25270", 3, "IPC-HFW2431", "Dahua"), ("25246", 2, "DS-2CD1023G0", "Hikvision"),
]  # fmt: skip


@dataclass
class DemoCameras:
    """What runs while the demo runs; stop() ends it."""

    simulator: SimulatorThread
    services: list[ServiceThread]
    refusing: RefusingPort

    def stop(self) -> None:
        for service in self.services:
            service.stop()
        self.simulator.stop()
        self.refusing.close()


def simulated_mounts() -> list[SimulatedCamera]:
    mounts = []
    for code, _, codec in CONNECTED:
        for number in (1, 2):
            mounts.append(
                SimulatedCamera(
                    f"/{code}/{number}-{codec}",
                    codec=codec,
                    username=USER,
                    password=PASSWORD,
                    audio="pcmu" if number == 2 else None,
                )
            )
    mounts += [
        SimulatedCamera("/26368/1-h264", username=USER, password=PASSWORD),
        SimulatedCamera("/hotrian-audio-only", audio="pcmu", audio_only=True),
        SimulatedCamera("/dongxoai-nvr-private", proprietary_video=True),
        SimulatedCamera("/phurieng-stall", stall_after=0.5),
        SimulatedCamera("/tamhiep-frozen", kind="frozen"),
        SimulatedCamera("/bienhoa-black", kind="black"),
    ]
    return mounts


def start(data_dir: Path, port: int = 8554) -> DemoCameras:
    """The simulated cameras and dead "cameras"; the preferred RTSP port, else any free one."""
    cache = data_dir / "clips"
    try:
        simulator = run_simulator(simulated_mounts(), port=port, cache_dir=cache)
    except OSError:
        simulator = run_simulator(simulated_mounts(), port=0, cache_dir=cache)
    services = [run_service(HangServer()), run_service(GarbageServer())]
    return DemoCameras(simulator, services, RefusingPort())


def demo_cameras() -> list[DemoCamera]:
    live = [_live(code, place, n, codec) for code, place, codec in CONNECTED for n in (1, 2)]
    return live + DEAD


def url_for(camera: DemoCamera, running: DemoCameras, dns_host: str) -> str:
    hang, garbage = running.services
    faults = {
        "hang": hang.url("/Streaming/Channels/101"),
        "garbage": garbage.url("/live/main"),
        "refused": running.refusing.url("/h264/ch1/main/av_stream"),
        "dns": f"rtsp://{USER}:{PASSWORD}@{dns_host}:554/cam/realmonitor",
    }
    if camera.target in faults:
        return faults[camera.target]
    url = running.simulator.url(camera.target, with_credentials=True)
    return (
        url.replace(PASSWORD.replace("@", "%40"), "sai-mat-khau") if camera.wrong_password else url
    )


def ensure_cameras(runtime: Runtime, running: DemoCameras) -> int:
    """Register the demo cameras, or point them at this run's ports; returns how many changed."""
    registry = Registry(runtime.credentials, runtime.settings.cameras)
    admin = Principal.system(ACTOR.name, runtime.settings.province_code)
    dns_host = "camera-hoangdieu.invalid"
    changed = 0
    with runtime.sessions() as session:
        set_actor(session, ACTOR)
        existing = {c.name: c for c in session.scalars(select(Camera)) if TAG in (c.tags or [])}
        for number, camera in enumerate(demo_cameras()):
            url = url_for(camera, running, dns_host)
            current = existing.get(camera.name)
            if current is None:
                unit = get_unit(session, camera.unit_code)
                lon, lat = _place(session, unit, number)
                create_camera(session, registry, admin, {
                    "name": camera.name, "unit_code": camera.unit_code, "stream_url": url,
                    "purpose": camera.purpose.value, "lat": lat, "lon": lon, "tags": [TAG],
                    "camera_type": "ip", "manufacturer": "Hikvision" if number % 2 else "Dahua",
                    "connection": "internet", "network_path": "camera → NVR → router → Internet",
                })  # fmt: skip
                changed += 1
            elif _stored_url(current, runtime) != url:
                update_camera(session, registry, admin, current, {"stream_url": url})
                changed += 1
        session.commit()
    return changed


def _stored_url(camera: Camera, runtime: Runtime) -> str:
    return open_url(camera, runtime.credentials)[0]


def _place(session: Session, unit: Unit, number: int) -> tuple[float | None, float | None]:
    """A point inside the commune: its label point, nudged a little per camera."""
    boundary = current_boundary(session, unit)
    if boundary is None:
        return None, None
    offset = ((number * 37) % 11 - 5) * 0.0015
    return boundary.label_lon + offset, boundary.label_lat - offset / 2


def ensure_declarations(runtime: Runtime) -> bool:
    digest = hashlib.sha256(repr((DECLARED, CONNECTED)).encode()).hexdigest()[:16]
    with runtime.sessions() as session:
        set_actor(session, ACTOR)
        if get_meta(session, "demo.declarations") == digest:
            return False
        declared = [(code, 6, "DS-2CD2143G2-I", "Hikvision") for code, _, _ in CONNECTED] + DECLARED
        for code, count, model, maker in declared:
            unit = get_unit(session, code)
            session.add(CameraDeclaration(
                unit=unit, unit_id=unit.id, camera_type="ip", model=model, manufacturer=maker,
                count=count, location=f"Trung tâm phục vụ hành chính công {unit.name}",
                purpose=Purpose.PUBLIC_SERVICE.value, recorder_kind="nvr", internet_stream=True,
                stream_protocol="RTSP", connection_model="camera → NVR → router → Internet",
                link_type="Internet cáp quang", link_speed="100 Mbps", source="demo",
            ))  # fmt: skip
        set_meta(session, "demo.declarations", digest)
        session.commit()
    return True
