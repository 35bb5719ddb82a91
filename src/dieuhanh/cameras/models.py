"""Cameras, what units declared in the survey, and the health of each stream over time."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dieuhanh.db.base import Base, JSONType, UTCDateTime, utcnow
from dieuhanh.units.models import Unit


class Purpose(StrEnum):
    PUBLIC_SERVICE = "public_service"  # Trung tâm phục vụ hành chính công
    TRAFFIC = "traffic"
    SECURITY = "security"
    TOURISM = "tourism"
    DAM = "dam"  # hồ, đập thủy lợi
    PORT_BORDER = "port_border"  # cảng, cửa khẩu
    OTHER = "other"


class State(StrEnum):
    LIVE = "live"
    DEAD = "dead"
    UNKNOWN = "unknown"


class Reason(StrEnum):
    """Why a stream is dead — each points the unit at a different fix."""

    DNS = "dns"  # the host name does not resolve
    REFUSED = "refused"  # nothing listens there (or the network rejects it)
    NETWORK_REFUSED = "network_refused"  # an address cameras.allowed_networks does not allow
    TIMEOUT = "timeout"  # no answer in time: firewall, wrong address, overloaded recorder
    UNAUTHORIZED = "unauthorized"  # RTSP 401/403: wrong user name or password
    NOT_FOUND = "not_found"  # RTSP 404: wrong channel/path
    PROTOCOL_ERROR = "protocol_error"  # something answered, but not RTSP/HTTP video
    NO_VIDEO = "no_video"  # the stream has no video track
    UNSUPPORTED_CODEC = "unsupported_codec"  # a codec we cannot play or transcode
    STALLED = "stalled"  # connected, then the packets stopped
    FROZEN = "frozen"  # the same picture for too long
    BLACK = "black"  # a black picture


class Camera(Base):
    __tablename__ = "cameras"
    __audited__ = True
    __audit_redact__ = frozenset({"credentials"})

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(20), default=Purpose.OTHER.value)
    camera_type: Mapped[str | None] = mapped_column(String(20))  # ip, analog
    model: Mapped[str | None] = mapped_column(String(100))
    manufacturer: Mapped[str | None] = mapped_column(String(100))
    recorder_kind: Mapped[str | None] = mapped_column(String(10))  # nvr, vms
    recorder_make: Mapped[str | None] = mapped_column(String(100))
    recorder_model: Mapped[str | None] = mapped_column(String(100))
    # Stored without user name and password; those are in `credentials`, encrypted.
    stream_url: Mapped[str] = mapped_column(String(500))
    sub_stream_url: Mapped[str | None] = mapped_column(String(500))
    stream_kind: Mapped[str] = mapped_column(String(10), default="rtsp")
    credentials: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    network_path: Mapped[str | None] = mapped_column(String(300))
    connection: Mapped[str | None] = mapped_column(String(20))  # internet, vpn, leased_line, ...
    ip_range: Mapped[str | None] = mapped_column(String(100))
    link_type: Mapped[str | None] = mapped_column(String(100))
    link_speed_mbps: Mapped[float | None] = mapped_column(Float)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    sharing_permitted: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_name: Mapped[str | None] = mapped_column(String(120))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(120))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    declaration_id: Mapped[int | None] = mapped_column(
        ForeignKey("camera_declarations.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")
    status: Mapped[CameraStatus | None] = relationship(
        back_populates="camera", cascade="all, delete-orphan", uselist=False, lazy="joined"
    )

    @property
    def audit_unit_id(self) -> int:
        return self.unit_id

    @property
    def audit_label(self) -> str:
        return self.name


class CameraStatus(Base):
    """The monitor's latest knowledge of one stream. Operational, rewritten every probe: not
    audited (its history is CameraStateChange)."""

    __tablename__ = "camera_status"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(10), default=State.UNKNOWN.value, index=True)
    reason: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(String(300))
    codec: Mapped[str | None] = mapped_column(String(30))
    profile: Mapped[str | None] = mapped_column(String(40))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    fps: Mapped[float | None] = mapped_column(Float)
    bitrate_kbps: Mapped[float | None] = mapped_column(Float)
    keyframe_interval_s: Mapped[float | None] = mapped_column(Float)
    audio_codec: Mapped[str | None] = mapped_column(String(30))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last change of state
    last_live_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    probe_seconds: Mapped[float | None] = mapped_column(Float)
    next_probe_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    picture_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    picture_signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    picture_same_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    luma_mean: Mapped[float | None] = mapped_column(Float)

    camera: Mapped[Camera] = relationship(back_populates="status")


class CameraStateChange(Base):
    """Every change of a stream's state or reason: the history uptime is computed from."""

    __tablename__ = "camera_state_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(String(300))


Index("ix_camera_state_changes_camera_at", CameraStateChange.camera_id, CameraStateChange.at)


class CameraDeclaration(Base):
    """One row of a unit's camera survey (the Government Office's appendix): what the unit says
    it has, possibly many cameras of one model at one place."""

    __tablename__ = "camera_declarations"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    camera_type: Mapped[str | None] = mapped_column(String(20))
    model: Mapped[str | None] = mapped_column(String(100))
    manufacturer: Mapped[str | None] = mapped_column(String(100))
    count: Mapped[int] = mapped_column(Integer, default=1)
    location: Mapped[str | None] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(String(20), default=Purpose.OTHER.value)
    recorder_kind: Mapped[str | None] = mapped_column(String(10))
    recorder_details: Mapped[str | None] = mapped_column(String(300))
    internet_stream: Mapped[bool | None] = mapped_column(Boolean)
    stream_protocol: Mapped[str | None] = mapped_column(String(40))
    connection_model: Mapped[str | None] = mapped_column(String(300))
    ip_range: Mapped[str | None] = mapped_column(String(100))
    reachable_from_government_network: Mapped[bool | None] = mapped_column(Boolean)
    link_type: Mapped[str | None] = mapped_column(String(100))
    link_speed: Mapped[str | None] = mapped_column(String(60))
    notes: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(200))
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")

    @property
    def audit_unit_id(self) -> int:
        return self.unit_id

    @property
    def audit_label(self) -> str:
        return (
            f"{self.count} × {self.model or self.camera_type or 'camera'} @ {self.location or '?'}"
        )


class CameraSnapshot(Base):
    """The latest picture of a camera (JPEG), from the monitor's picture check or a stream."""

    __tablename__ = "camera_snapshots"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CameraLayout(Base):
    """A grid of cameras saved by one person (1, 4, 9 or 16 tiles); the wall rotates through
    a person's layouts."""

    __tablename__ = "camera_layouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    camera_ids: Mapped[list[int | None]] = mapped_column(JSONType, default=list)
    rotate_seconds: Mapped[int] = mapped_column(Integer, default=30)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
