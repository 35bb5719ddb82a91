"""A monitor round over real streams: states and reasons stored, events sent, secrets kept."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dieuhanh.cameras.models import Camera, CameraStateChange
from dieuhanh.cameras.monitor import TOPIC_STATE_CHANGED, HealthMonitor
from dieuhanh.core.events import EventRecord
from dieuhanh.core.runtime import Runtime
from tests.cameras.conftest import SIM_PASSWORD
from tests.conftest import LOC_THANH, LONG_THANH


@pytest.fixture
def fast_runtime(database_url: str, make_runtime) -> Runtime:
    from tests.conftest import CREDENTIAL_KEY

    return make_runtime(
        database_url,
        cameras={
            "credential_keys": [CREDENTIAL_KEY],
            "monitor": {"timeout_seconds": 2, "read_seconds": 0.5, "confirm_failures": 1},
        },
    )


def register(
    client: TestClient, headers: dict[str, str], name: str, url: str, unit: str = LOC_THANH
) -> int:
    response = client.post(
        "/api/v1/cameras",
        headers=headers,
        json={"name": name, "unit_code": unit, "stream_url": url},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_a_round_classifies_every_camera(
    fast_runtime: Runtime,
    simulator,
    gst_camera,
    hanging,
    garbage,
    refusing,
    unresolvable,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from dieuhanh.app import create_app
    from tests.conftest import token_for

    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(runtime=fast_runtime)) as client:
        headers = token_for(client, "admin")
        expected = {
            register(client, headers, "Sim H.265", simulator.url("/h265")): ("live", None, "h265"),
            register(client, headers, "GStreamer H.264", gst_camera.url("/h264"), LONG_THANH): (
                "live",
                None,
                "h264",
            ),
            register(
                client, headers, "Sai mật khẩu", simulator.url("/secure").replace("%21", "x")
            ): ("dead", "unauthorized", None),
            register(client, headers, "Sai kênh", simulator.url("/kenh-99")): (
                "dead",
                "not_found",
                None,
            ),
            register(client, headers, "Treo", hanging): ("dead", "timeout", None),
            register(client, headers, "Rác", garbage): ("dead", "protocol_error", None),
            register(client, headers, "Tắt", refusing): ("dead", "refused", None),
            register(client, headers, "Sai tên", unresolvable): ("dead", "dns", None),
            register(client, headers, "Chỉ có tiếng", simulator.url("/audio-only")): (
                "dead",
                "no_video",
                None,
            ),
            register(client, headers, "Đen", simulator.url("/black")): ("dead", "black", "h264"),
        }
        report = HealthMonitor(fast_runtime).run_round()
        assert report.probed == len(expected)
        for camera_id, (state, reason, codec) in expected.items():
            status = client.get(f"/api/v1/cameras/{camera_id}", headers=headers).json()["status"]
            assert (status["state"], status["reason"]) == (state, reason), (camera_id, status)
            if codec:
                assert status["codec"] == codec
            assert status["checked_at"] and status["since"]
        # Nothing is due right after a round: the next one probes nobody.
        assert HealthMonitor(fast_runtime).run_round().probed == 0
        summary = client.get("/api/v1/cameras/summary", headers=headers).json()
        assert (summary["live"], summary["dead"]) == (2, 8)
        assert summary["by_reason"]["timeout"] == 1 and summary["by_codec"] == {
            "h264": 1,
            "h265": 1,
        }
        events = client.get("/api/v1/events", params={"topic": "camera.*"}, headers=headers).json()
    with fast_runtime.sessions() as session:
        received = session.scalars(select(EventRecord).order_by(EventRecord.id)).all()
    assert len(received) == len(expected) == len(events)
    assert {e.topic for e in received} == {TOPIC_STATE_CHANGED}
    with fast_runtime.sessions() as session:
        assert len(session.scalars(select(CameraStateChange)).all()) == len(expected)
        leases = [c.status.lease_until for c in session.scalars(select(Camera))]
    assert leases == [None] * len(expected)
    assert SIM_PASSWORD not in caplog.text and "Cam%40123" not in caplog.text
    assert all(SIM_PASSWORD not in str(e.payload) for e in received)


def test_probe_now_through_the_api(client: TestClient, auth, simulator) -> None:
    headers = auth("commune")
    camera_id = register(client, headers, "Cổng", simulator.url("/secure"))
    response = client.post(f"/api/v1/cameras/{camera_id}/probe", headers=headers)
    assert response.status_code == 200
    status = response.json()
    assert (status["state"], status["codec"], status["width"], status["height"]) == (
        "live",
        "h264",
        640,
        360,
    )
    assert status["fps"] == pytest.approx(15, rel=0.15) and status["bitrate_kbps"] > 0
    history = client.get(f"/api/v1/cameras/{camera_id}/history", headers=headers).json()
    assert [c["state"] for c in history["changes"]] == ["live"]
    assert len(history["days"]) == 7 and history["flaps_24h"] == 0
    other = client.post(f"/api/v1/cameras/{camera_id}/probe", headers=auth("commune2"))
    assert other.status_code == 403


def test_a_viewer_cannot_start_a_probe(client: TestClient, auth, simulator) -> None:
    camera_id = register(client, auth("commune"), "Cổng", simulator.url("/secure"))
    for viewer in ("viewer", "viewer_commune", "dept"):
        headers = auth(viewer)
        assert client.get(f"/api/v1/cameras/{camera_id}", headers=headers).status_code == 200
        refused = client.post(f"/api/v1/cameras/{camera_id}/probe", headers=headers)
        assert refused.status_code == 403, viewer
        assert 'id="probe-now"' not in client.get(f"/cameras/{camera_id}", headers=headers).text
    status = client.get(f"/api/v1/cameras/{camera_id}", headers=auth("admin")).json()["status"]
    assert status["checked_at"] is None  # nobody probed it
    assert 'id="probe-now"' in client.get(f"/cameras/{camera_id}", headers=auth("commune")).text


def test_frozen_and_black_from_real_streams_on_a_fake_clock(
    fast_runtime: Runtime,
    simulator,
    gst_camera,
) -> None:
    from datetime import UTC, datetime, timedelta

    from dieuhanh.app import create_app
    from tests.conftest import token_for

    now = [datetime(2026, 11, 22, 2, 0, tzinfo=UTC)]
    monitor = HealthMonitor(fast_runtime, clock=lambda: now[0])
    with TestClient(create_app(runtime=fast_runtime)) as client:
        headers = token_for(client, "admin")
        ids = {
            "sim-frozen": register(client, headers, "Đứng hình", simulator.url("/frozen")),
            "gst-frozen": register(client, headers, "Đứng hình 2", gst_camera.url("/frozen")),
            "gst-black": register(client, headers, "Đen", gst_camera.url("/black")),
            "moving": register(client, headers, "Bình thường", simulator.url("/h264")),
        }
    frozen_after = fast_runtime.settings.cameras.monitor.frozen_after_seconds
    verdicts = []
    for step in range(3):  # picture checks at 0, frozen_after/2 and frozen_after
        now[0] += timedelta(seconds=frozen_after / 2 if step else 0)
        with fast_runtime.sessions() as session:
            for camera_id in ids.values():
                monitor.probe_now(session, session.get(Camera, camera_id))
            session.commit()
            verdicts.append(
                {
                    k: (session.get(Camera, v).status.state, session.get(Camera, v).status.reason)
                    for k, v in ids.items()
                }
            )
    assert verdicts[0]["sim-frozen"] == ("live", None) and verdicts[1]["gst-frozen"] == (
        "live",
        None,
    )
    assert verdicts[2] == {
        "sim-frozen": ("dead", "frozen"),
        "gst-frozen": ("dead", "frozen"),
        "gst-black": ("dead", "black"),
        "moving": ("live", None),
    }
