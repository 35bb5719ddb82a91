"""The JSON shapes of the cameras API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dieuhanh.cameras.models import Camera, CameraStatus, Purpose, Reason, State
from dieuhanh.cameras.service import shown_urls
from dieuhanh.core.secrets import CredentialCipher

CameraType = Literal["ip", "analog"]
RecorderKind = Literal["none", "nvr", "vms"]
Connection = Literal["internet", "vpn", "leased_line", "government_network", "other"]


class CameraFields(BaseModel):
    """Everything a person may set on a camera (all optional: PATCH sends only what changes)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    unit_code: str | None = Field(default=None, max_length=32)
    stream_url: str | None = Field(
        default=None,
        max_length=500,
        description="rtsp://, rtsps://, http(s):// (HLS, HTTP-FLV, MJPEG). A user:password in it "
        "is stored encrypted and never returned; a URL sent back with the password masked as "
        "'****' keeps the stored one.",
    )
    sub_stream_url: str | None = Field(default=None, max_length=500)
    username: str | None = Field(default=None, max_length=100, description="Write-only")
    password: str | None = Field(default=None, max_length=200, description="Write-only")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    purpose: Purpose | None = None
    camera_type: CameraType | None = None
    model: str | None = Field(default=None, max_length=100)
    manufacturer: str | None = Field(default=None, max_length=100)
    recorder_kind: RecorderKind | None = None
    recorder_make: str | None = Field(default=None, max_length=100)
    recorder_model: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    network_path: str | None = Field(
        default=None, max_length=300, description="e.g. camera → firewall → router → Internet"
    )
    connection: Connection | None = None
    ip_range: str | None = Field(default=None, max_length=100)
    link_type: str | None = Field(default=None, max_length=100)
    link_speed_mbps: float | None = Field(default=None, ge=0, le=100_000)
    tags: list[str] | None = Field(default=None, max_length=30)
    sharing_permitted: bool | None = None
    contact_name: str | None = Field(default=None, max_length=120)
    contact_phone: str | None = Field(default=None, max_length=40)
    contact_email: str | None = Field(default=None, max_length=120)
    enabled: bool | None = None

    def changes(self) -> dict[str, Any]:
        data = self.model_dump(exclude_unset=True)
        for key in ("purpose",):
            if data.get(key) is not None:
                data[key] = getattr(self, key).value
        if data.get("tags") is not None:
            data["tags"] = [tag.strip()[:40] for tag in data["tags"] if tag.strip()]
        return data


class CameraCreate(CameraFields):
    name: str = Field(min_length=1, max_length=200)
    unit_code: str = Field(min_length=1, max_length=32)
    stream_url: str = Field(min_length=1, max_length=500)


class StatusOut(BaseModel):
    state: State
    reason: Reason | None
    detail: str | None
    codec: str | None
    profile: str | None
    width: int | None
    height: int | None
    fps: float | None
    bitrate_kbps: float | None
    keyframe_interval_s: float | None
    audio_codec: str | None
    checked_at: datetime | None
    since: datetime | None = Field(description="When the state last changed")
    last_live_at: datetime | None

    @classmethod
    def of(cls, status: CameraStatus | None) -> StatusOut:
        if status is None:
            status = CameraStatus(state=State.UNKNOWN.value)
        return cls(
            state=State(status.state or State.UNKNOWN.value),
            reason=Reason(status.reason) if status.reason else None,
            **{key: getattr(status, key) for key in (
                "detail", "codec", "profile", "width", "height", "fps", "bitrate_kbps",
                "keyframe_interval_s", "audio_codec", "checked_at", "since", "last_live_at",
            )},
        )  # fmt: skip


class CameraOut(BaseModel):
    id: int
    name: str
    unit_code: str
    unit_name: str
    stream_url: str = Field(description="Password masked")
    sub_stream_url: str | None
    stream_kind: str
    has_credentials: bool
    lat: float | None
    lon: float | None
    purpose: str
    camera_type: str | None
    model: str | None
    manufacturer: str | None
    recorder_kind: str | None
    recorder_make: str | None
    recorder_model: str | None
    address: str | None
    network_path: str | None
    connection: str | None
    ip_range: str | None
    link_type: str | None
    link_speed_mbps: float | None
    tags: list[str]
    sharing_permitted: bool
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime
    status: StatusOut

    @classmethod
    def of(cls, camera: Camera, cipher: CredentialCipher) -> CameraOut:
        main, sub = shown_urls(camera, cipher)
        plain = {key: getattr(camera, key) for key in (
            "id", "name", "stream_kind", "lat", "lon", "purpose", "camera_type", "model",
            "manufacturer", "recorder_kind", "recorder_make", "recorder_model", "address",
            "network_path", "connection", "ip_range", "link_type", "link_speed_mbps",
            "sharing_permitted", "contact_name", "contact_phone", "contact_email", "enabled",
            "created_at", "updated_at",
        )}  # fmt: skip
        return cls(
            **plain,
            unit_code=camera.unit.code,
            unit_name=camera.unit.name,
            stream_url=main,
            sub_stream_url=sub,
            has_credentials=camera.credentials is not None,
            tags=camera.tags or [],
            status=StatusOut.of(camera.status),
        )


class DayOut(BaseModel):
    day: str
    uptime_percent: float | None
    live_seconds: float
    dead_seconds: float
    changes: int


class ChangeOut(BaseModel):
    at: datetime
    state: State
    reason: Reason | None
    detail: str | None


class HistoryOut(BaseModel):
    days: list[DayOut]
    changes: list[ChangeOut]
    flaps_24h: int
    last_change_at: datetime | None
