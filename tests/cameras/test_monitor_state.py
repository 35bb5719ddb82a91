"""How probe results become a camera's state, history and events — on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dieuhanh.cameras import history
from dieuhanh.cameras.models import Camera, CameraStateChange, Reason
from dieuhanh.cameras.monitor import TOPIC_STATE_CHANGED, apply_result
from dieuhanh.cameras.picture import Picture
from dieuhanh.cameras.probe import ProbeResult
from dieuhanh.cameras.service import Registry, create_camera
from dieuhanh.core.access import Principal, Role
from dieuhanh.core.events import EventRecord
from dieuhanh.core.runtime import Runtime
from tests.conftest import LOC_THANH

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 08:00 in Đồng Nai
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
# Two different, bright, textured thumbnails: a scene that moves.
MOVING = [
    Picture(bytes((i * 7) % 200 + 30 for i in range(576)), 129.0, 199),
    Picture(bytes((i * 11) % 180 + 40 for i in range(576)), 129.5, 179),
]


def live(picture: Picture | None = None) -> ProbeResult:
    return ProbeResult(
        live=True,
        codec="h265",
        width=1920,
        height=1080,
        fps=25.0,
        bitrate_kbps=2048.0,
        picture=picture,
    )


def dead(reason: Reason) -> ProbeResult:
    return ProbeResult(live=False, reason=reason, detail=f"{reason.value} in a test")


@pytest.fixture
def camera_id(runtime: Runtime) -> int:
    admin = Principal(
        user_id=1,
        username="admin",
        full_name="",
        role=Role.PROVINCE_ADMIN,
        unit_id=0,
        unit_code="75",
        unit_name="Đồng Nai",
        own_units=None,
        via="api",
    )
    with runtime.sessions() as session:
        camera = create_camera(
            session,
            Registry(runtime.credentials, runtime.settings.cameras),
            admin,
            {"name": "Camera 1", "unit_code": LOC_THANH, "stream_url": "rtsp://10.0.0.9/x"},
        )
        session.commit()
        return camera.id


def feed(
    runtime: Runtime, camera_id: int, result: ProbeResult, at: datetime, confirmed: bool = False
) -> bool:
    with runtime.sessions() as session:
        camera = session.get(Camera, camera_id)
        changed = apply_result(
            session, camera, result, at, runtime.settings.cameras.monitor, confirmed
        )
        session.commit()
        return changed


def logged(runtime: Runtime) -> list[EventRecord]:
    """The events in the log (what every subscriber reads)."""
    with runtime.sessions() as session:
        return list(session.scalars(select(EventRecord).order_by(EventRecord.id)))


def status(runtime: Runtime, camera_id: int):
    with runtime.sessions() as session:
        return session.get(Camera, camera_id).status


def test_first_live_probe_sets_state_and_publishes(runtime: Runtime, camera_id: int) -> None:
    assert feed(runtime, camera_id, live(), T0)
    current = status(runtime, camera_id)
    assert (current.state, current.reason, current.codec, current.since) == (
        "live",
        None,
        "h265",
        T0,
    )
    assert current.next_probe_at == T0 + timedelta(
        seconds=runtime.settings.cameras.monitor.interval_seconds
    )
    received = logged(runtime)
    assert [e.topic for e in received] == [TOPIC_STATE_CHANGED]
    assert (
        received[0].payload["state"] == "live"
        and received[0].payload["previous_state"] == "unknown"
    )
    assert not feed(runtime, camera_id, live(), T0 + timedelta(minutes=1))  # no change, no event
    assert len(logged(runtime)) == 1


def test_a_live_camera_dies_after_confirmed_failures_and_backs_off(
    runtime: Runtime, camera_id: int
) -> None:
    policy = runtime.settings.cameras.monitor
    assert policy.confirm_failures == 2
    feed(runtime, camera_id, live(), T0)
    assert not feed(runtime, camera_id, dead(Reason.TIMEOUT), T0 + timedelta(minutes=1))
    assert status(runtime, camera_id).state == "live"  # one failure may be a blip
    assert feed(runtime, camera_id, dead(Reason.TIMEOUT), T0 + timedelta(minutes=2))
    current = status(runtime, camera_id)
    assert (current.state, current.reason, current.since) == (
        "dead",
        "timeout",
        T0 + timedelta(minutes=2),
    )
    assert current.detail == "timeout in a test"
    waits = []
    for n in range(3, 12):
        at = T0 + timedelta(minutes=n)
        feed(runtime, camera_id, dead(Reason.TIMEOUT), at)
        waits.append((status(runtime, camera_id).next_probe_at - at).total_seconds())
    assert (
        waits[:3] == [240, 480, policy.max_backoff_seconds]
        and max(waits) == policy.max_backoff_seconds
    )


def test_a_manual_probe_decides_at_once_and_reason_changes_are_history(
    runtime: Runtime, camera_id: int
) -> None:
    feed(runtime, camera_id, live(), T0)
    assert feed(
        runtime, camera_id, dead(Reason.UNAUTHORIZED), T0 + timedelta(minutes=1), confirmed=True
    )
    assert feed(
        runtime, camera_id, dead(Reason.NOT_FOUND), T0 + timedelta(minutes=2), confirmed=True
    )
    current = status(runtime, camera_id)
    assert (current.state, current.reason, current.since) == (
        "dead",
        "not_found",
        T0 + timedelta(minutes=1),
    )
    with runtime.sessions() as session:
        rows = session.scalars(select(CameraStateChange).order_by(CameraStateChange.id)).all()
    assert [(r.state, r.reason) for r in rows] == [
        ("live", None),
        ("dead", "unauthorized"),
        ("dead", "not_found"),
    ]


def test_black_picture(runtime: Runtime, camera_id: int) -> None:
    feed(runtime, camera_id, live(Picture(bytes([3] * 576), 3.0, 0)), T0)
    current = status(runtime, camera_id)
    assert (current.state, current.reason) == ("dead", "black")
    assert "mean brightness 3.0" in current.detail
    # A probe without a picture check does not clear it; the next check does.
    feed(runtime, camera_id, live(), T0 + timedelta(minutes=1))
    assert status(runtime, camera_id).reason == "black"
    feed(runtime, camera_id, live(MOVING[0]), T0 + timedelta(minutes=5))
    assert (status(runtime, camera_id).state, status(runtime, camera_id).reason) == ("live", None)


def test_frozen_picture_after_the_configured_time(runtime: Runtime, camera_id: int) -> None:
    frozen_after = runtime.settings.cameras.monitor.frozen_after_seconds
    still = Picture(bytes([90 + (i % 7) for i in range(576)]), 93.0, 6)
    feed(runtime, camera_id, live(still), T0)
    feed(runtime, camera_id, live(still), T0 + timedelta(seconds=frozen_after // 2))
    assert status(runtime, camera_id).state == "live"  # not yet long enough
    feed(runtime, camera_id, live(still), T0 + timedelta(seconds=frozen_after))
    current = status(runtime, camera_id)
    assert (current.state, current.reason) == ("dead", "frozen")
    assert current.picture_same_since == T0
    feed(runtime, camera_id, live(MOVING[1]), T0 + timedelta(seconds=frozen_after + 300))
    assert status(runtime, camera_id).state == "live"


def test_uptime_per_day_and_flaps(runtime: Runtime, camera_id: int) -> None:
    # Local day 20/11: live from 08:00, dead 14:00–20:00, live again; 21/11 live all day.
    feed(runtime, camera_id, live(), T0)
    feed(runtime, camera_id, dead(Reason.REFUSED), T0 + timedelta(hours=6), confirmed=True)
    feed(runtime, camera_id, live(), T0 + timedelta(hours=12))
    now = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)  # 22/11 00:00 local
    with runtime.sessions() as session:
        days = history.daily_uptime(session, camera_id, 3, now, VIETNAM)
        flaps = history.flaps(session, camera_id, T0 + timedelta(hours=13))
    assert [d.day.isoformat() for d in days] == ["2026-11-20", "2026-11-21", "2026-11-22"]
    first = days[0]
    assert (first.live_seconds, first.dead_seconds) == (10 * 3600, 6 * 3600)  # 08:00–24:00 known
    assert first.uptime_percent == 62.5 and first.changes == 2
    assert days[1].uptime_percent == 100.0
    assert days[2].uptime_percent is None  # nothing known yet today
    assert flaps == 2


def test_no_event_when_the_change_is_rolled_back(runtime: Runtime, camera_id: int) -> None:
    with runtime.sessions() as session:
        camera = session.get(Camera, camera_id)
        apply_result(session, camera, live(), T0, runtime.settings.cameras.monitor)
        session.rollback()
    assert logged(runtime) == []
