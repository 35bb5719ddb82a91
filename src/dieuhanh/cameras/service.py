"""The camera registry: registering, changing and listing cameras within the unit scope."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from dieuhanh.cameras.models import Camera, CameraStatus, State
from dieuhanh.cameras.urls import (
    StreamUrl,
    display_url,
    origin,
    parse_stream_url,
    shown_origin,
    with_credentials,
)
from dieuhanh.core.access import Principal, authorize
from dieuhanh.core.config import CameraSettings
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import InvalidInput, NotFound
from dieuhanh.core.network import NetworkPolicy, check_saved_host
from dieuhanh.core.redact import MASK
from dieuhanh.core.secrets import CredentialCipher, Credentials
from dieuhanh.core.text import fold
from dieuhanh.units.models import Unit
from dieuhanh.units.service import get_unit

# Plain fields a request may set directly (URLs, unit and credentials are handled apart).
PLAIN_FIELDS = (
    "name", "purpose", "camera_type", "model", "manufacturer", "recorder_kind", "recorder_make",
    "recorder_model", "lat", "lon", "address", "network_path", "connection", "ip_range",
    "link_type", "link_speed_mbps", "tags", "sharing_permitted", "contact_name", "contact_phone",
    "contact_email", "enabled",
)  # fmt: skip


@dataclass(frozen=True)
class Registry:
    """What registry operations need besides the session."""

    cipher: CredentialCipher
    settings: CameraSettings

    @cached_property
    def policy(self) -> NetworkPolicy:
        return NetworkPolicy.of_settings(self.settings)


def get_camera(
    session: Session, camera_id: int, principal: Principal, access: str = "read"
) -> Camera:
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise NotFound(f"No camera {camera_id}.", code="camera_not_found")
    authorize(principal, "write" if access == "write" else "read", camera.unit_id, camera.unit.name)
    return camera


def create_camera(
    session: Session, registry: Registry, principal: Principal, data: dict[str, Any]
) -> Camera:
    unit = _writable_unit(session, principal, data.get("unit_code"))
    main = _checked_url(registry, data.get("stream_url") or "", "stream_url")
    camera = Camera(unit=unit, unit_id=unit.id, stream_url=main.url, stream_kind=main.kind)
    given = _kept_password(main, None, None, data)
    credentials = _explicit_credentials(data, given) or given
    camera.credentials = registry.cipher.encrypt(credentials)
    if data.get("sub_stream_url"):
        camera.sub_stream_url = _sub_url(registry, data["sub_stream_url"], main.url, credentials)
    _apply_plain(camera, data)
    _check_location(camera)
    camera.status = CameraStatus(state=State.UNKNOWN.value, next_probe_at=utcnow())
    session.add(camera)
    session.flush()
    return camera


def update_camera(
    session: Session, registry: Registry, principal: Principal, camera: Camera, data: dict[str, Any]
) -> None:
    if "unit_code" in data:
        unit = _writable_unit(session, principal, data["unit_code"])
        camera.unit, camera.unit_id = unit, unit.id
    stored = registry.cipher.decrypt(camera.credentials)
    credentials = stored
    if "stream_url" in data:
        main = _checked_url(registry, data["stream_url"] or "", "stream_url")
        credentials = _kept_password(main, camera.stream_url, stored, data)
        if main.url != camera.stream_url:
            camera.stream_url, camera.stream_kind = main.url, main.kind
            _probe_soon(camera)
    credentials = _explicit_credentials(data, credentials) or credentials
    if "sub_stream_url" in data:
        text = data["sub_stream_url"]
        camera.sub_stream_url = (
            _sub_url(registry, text, camera.stream_url, credentials) if text else None
        )
    if credentials != stored:
        camera.credentials = registry.cipher.encrypt(credentials)
        _probe_soon(camera)
    _apply_plain(camera, data)
    _check_location(camera)


def open_url(
    camera: Camera, cipher: CredentialCipher, sub_stream: bool = False
) -> tuple[str, list[str]]:
    """The URL to open, credentials included, and the secrets to scrub from any message.

    The credentials were given for the main stream's scheme, host and port: a sub-stream
    elsewhere is opened without them, so no password reaches a machine it was not given for."""
    credentials = cipher.decrypt(camera.credentials)
    url = camera.sub_stream_url if sub_stream and camera.sub_stream_url else camera.stream_url
    if origin(url) != origin(camera.stream_url):
        credentials = None
    secrets = [credentials.password] if credentials else []
    return with_credentials(url, credentials), secrets


def shown_urls(camera: Camera, cipher: CredentialCipher) -> tuple[str, str | None]:
    credentials = cipher.decrypt(camera.credentials)
    sub = None
    if camera.sub_stream_url:
        same = origin(camera.sub_stream_url) == origin(camera.stream_url)
        sub = display_url(camera.sub_stream_url, credentials if same else None)
    return display_url(camera.stream_url, credentials), sub


@dataclass(frozen=True)
class CameraFilter:
    unit_id: int | None = None
    state: str | None = None
    reason: str | None = None
    codec: str | None = None
    purpose: str | None = None
    q: str | None = None


def list_statement(principal: Principal, flt: CameraFilter) -> Select[Any]:
    statement = (
        select(Camera)
        .outerjoin(CameraStatus, CameraStatus.camera_id == Camera.id)
        .where(principal.read_scope.where(Camera.unit_id))
    )
    if flt.unit_id is not None:
        statement = statement.where(Camera.unit_id == flt.unit_id)
    if flt.state == State.UNKNOWN.value:
        statement = statement.where(
            or_(CameraStatus.state.is_(None), CameraStatus.state == "unknown")
        )
    elif flt.state:
        statement = statement.where(CameraStatus.state == flt.state)
    if flt.reason:
        statement = statement.where(CameraStatus.reason == flt.reason)
    if flt.codec:
        statement = statement.where(CameraStatus.codec == flt.codec)
    if flt.purpose:
        statement = statement.where(Camera.purpose == flt.purpose)
    return statement


def list_cameras(
    session: Session, principal: Principal, flt: CameraFilter, limit: int, offset: int
) -> tuple[list[Camera], int]:
    cameras = list(
        session.scalars(list_statement(principal, flt).order_by(Camera.unit_id, Camera.name))
    )
    if flt.q:
        # A unit has few cameras: matching folded names here keeps the search
        # diacritics-insensitive without storing a second name column.
        key = fold(flt.q)
        cameras = [c for c in cameras if key in fold(f"{c.name} {c.address or ''} {c.unit.name}")]
    return cameras[offset : offset + limit], len(cameras)


def summary(session: Session, principal: Principal) -> dict[str, Any]:
    scope = principal.read_scope.where(Camera.unit_id)
    state = func.coalesce(CameraStatus.state, "unknown")
    by_state = _count(session, scope, state)
    return {
        "total": sum(by_state.values()),
        "live": by_state.get("live", 0),
        "dead": by_state.get("dead", 0),
        "unknown": by_state.get("unknown", 0),
        "by_unit": _by_unit(session, scope, state),
        "by_codec": _count(session, scope, CameraStatus.codec, CameraStatus.state == "live"),
        "by_reason": _count(session, scope, CameraStatus.reason, CameraStatus.state == "dead"),
    }


def _count(session: Session, scope: Any, column: Any, *where: Any) -> dict[str, int]:
    rows = session.execute(
        select(column, func.count())
        .select_from(Camera)
        .outerjoin(CameraStatus, CameraStatus.camera_id == Camera.id)
        .where(scope, *where)
        .group_by(column)
    )
    return {str(key): count for key, count in rows if key is not None}


def _by_unit(session: Session, scope: Any, state: Any) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Unit.code, Unit.name, state, func.count())
        .select_from(Camera)
        .join(Unit, Unit.id == Camera.unit_id)
        .outerjoin(CameraStatus, CameraStatus.camera_id == Camera.id)
        .where(scope)
        .group_by(Unit.code, Unit.name, state)
        .order_by(Unit.code)
    )
    units: dict[str, dict[str, Any]] = {}
    for code, name, camera_state, count in rows:
        entry = units.setdefault(
            code,
            {"unit_code": code, "unit_name": name, "total": 0, "live": 0, "dead": 0, "unknown": 0},
        )
        entry[camera_state] += count
        entry["total"] += count
    return list(units.values())


def _writable_unit(session: Session, principal: Principal, code: str | None) -> Unit:
    if not code:
        raise InvalidInput(
            "unit_code is required: the unit that owns the camera.", code="missing_unit"
        )
    unit = get_unit(session, code)
    authorize(principal, "write", unit.id, unit.name)
    return unit


def _checked_url(registry: Registry, text: str, field: str) -> StreamUrl:
    parsed = parse_stream_url(text, field)
    check_saved_host(parsed.host, registry.policy, field)
    return parsed


def _kept_password(
    main: StreamUrl, old_url: str | None, stored: Credentials | None, data: dict[str, Any]
) -> Credentials | None:
    """A URL sent back as it was shown ("user:****@") keeps the stored password — only for the
    scheme, host and port it was given for: a masked URL pointing elsewhere would otherwise
    send the camera's password to whatever listens there."""
    given = main.credentials
    if given is None or given.password != MASK:
        return given
    if data.get("password") is not None:
        return Credentials(given.username, "")  # the password field completes it
    if stored is None or old_url is None:
        raise InvalidInput(
            "stream_url has a masked password but none is stored; give it in full.",
            code="invalid_url",
        )
    if origin(main.url) != origin(old_url):
        raise InvalidInput(
            f"stream_url: the address changed ({shown_origin(old_url)} → "
            f"{shown_origin(main.url)}); the stored password is kept only for the address it "
            "was given for. Give the password again.",
            code="password_required",
        )
    return Credentials(given.username, stored.password)


def _sub_url(registry: Registry, text: str, main_url: str, credentials: Credentials | None) -> str:
    """The sub-stream URL to store (without credentials): one login is kept per camera, used for
    the sub-stream only when it is on the main stream's scheme, host and port."""
    sub = _checked_url(registry, text, "sub_stream_url")
    given = sub.credentials
    if given is None:
        return sub.url
    if origin(sub.url) != origin(main_url):
        raise InvalidInput(
            f"sub_stream_url is on {shown_origin(sub.url)}, not on stream_url's "
            f"{shown_origin(main_url)}: the camera's login is never sent there, and a second "
            "one is not kept. Give it without a user name and password, or on the same address.",
            code="sub_stream_credentials",
        )
    if given.password != MASK and given != credentials:
        raise InvalidInput(
            "sub_stream_url has another user name or password than stream_url; one login is "
            "kept per camera: give it in stream_url.",
            code="sub_stream_credentials",
        )
    return sub.url


def _explicit_credentials(
    data: dict[str, Any], current: Credentials | None = None
) -> Credentials | None:
    """Credentials given as ``username``/``password`` fields, completing the current ones."""
    given_user, given_password = data.get("username"), data.get("password")
    if given_user is None and given_password is None:
        return None
    username = str(given_user) if given_user is not None else (current.username if current else "")
    password = (
        str(given_password) if given_password is not None else (current.password if current else "")
    )
    return Credentials(username, password) if username or password else None


def _apply_plain(camera: Camera, data: dict[str, Any]) -> None:
    for key in PLAIN_FIELDS:
        if key in data:
            setattr(camera, key, data[key])
    if not camera.name or not camera.name.strip():
        raise InvalidInput("name is required.", code="missing_name")


def _check_location(camera: Camera) -> None:
    if (camera.lat is None) != (camera.lon is None):
        raise InvalidInput("Give both lat and lon, or neither.", code="invalid_location")


def _probe_soon(camera: Camera) -> None:
    if camera.status is not None:
        camera.status.next_probe_at = utcnow()
