"""A camera's password goes only to the scheme, host and port it was given for (issue #10).

Through the API, with the simulator as the real camera and a recording RTSP server on another
port as "another host": what reached that server is the proof."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dieuhanh.cameras.models import Camera
from dieuhanh.cameras.probe import ProbeOptions, probe
from dieuhanh.cameras.service import open_url
from dieuhanh.core.network import NetworkPolicy
from dieuhanh.core.runtime import Runtime
from dieuhanh.rtsp.client import RtspClient, RtspError
from dieuhanh.simulator import ServiceThread, SimulatorThread, run_service
from tests.aio import run as run_in_thread
from tests.cameras.conftest import SIM_PASSWORD
from tests.cameras.servers import RecordingRtspServer
from tests.conftest import LOC_THANH, TEST_CAMERA_NETWORKS

FAST = ProbeOptions(timeout=2.0, read_seconds=0.3)
LOOPBACK_ALLOWED = NetworkPolicy.of(TEST_CAMERA_NETWORKS)


@pytest.fixture
def other_host() -> Iterator[tuple[ServiceThread, RecordingRtspServer]]:
    server = RecordingRtspServer()
    with run_service(server) as service:
        yield service, server


def register(client: TestClient, headers: dict[str, str], **fields: object) -> dict:
    body = {"name": "Cổng", "unit_code": LOC_THANH, **fields}
    response = client.post("/api/v1/cameras", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_masked_url_to_another_port_does_not_take_the_password_along(
    client: TestClient, auth, runtime: Runtime, simulator: SimulatorThread, other_host
) -> None:
    service, recorder = other_host
    headers = auth("commune")
    camera = register(client, headers, stream_url=simulator.url("/secure"))
    shown = camera["stream_url"]
    assert ":****@" in shown
    moved = shown.replace(f":{simulator.port}/", f":{service.port}/")
    refused = client.patch(
        f"/api/v1/cameras/{camera['id']}", headers=headers, json={"stream_url": moved}
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "password_required" and "password again" in error["message"]
    assert f"127.0.0.1:{service.port}" in error["message"]
    # Nothing changed: the camera still probes its own server, and the other saw nobody.
    probed = client.post(f"/api/v1/cameras/{camera['id']}/probe", headers=headers)
    assert probed.json()["state"] == "live"
    assert recorder.accepted == 0
    # Another path on the same scheme, host and port keeps the password, as before.
    same_place = client.patch(
        f"/api/v1/cameras/{camera['id']}",
        headers=headers,
        json={"stream_url": shown.replace("/secure", "/secure?channel=1")},
    )
    assert same_place.status_code == 200, same_place.text
    with runtime.sessions() as session:
        assert SIM_PASSWORD in open_url(session.get(Camera, camera["id"]), runtime.credentials)[1]
    # Moving with the password typed again is a new login for the new place.
    retyped = client.patch(
        f"/api/v1/cameras/{camera['id']}",
        headers=headers,
        json={"stream_url": moved, "password": "mật-khẩu-mới"},
    )
    assert retyped.status_code == 200, retyped.text
    with runtime.sessions() as session:
        url, secrets = open_url(session.get(Camera, camera["id"]), runtime.credentials)
    assert secrets == ["mật-khẩu-mới"] and f":{service.port}/" in url


def test_the_main_login_is_not_sent_to_a_sub_stream_elsewhere(
    client: TestClient, auth, runtime: Runtime, simulator: SimulatorThread, other_host
) -> None:
    service, recorder = other_host
    headers = auth("commune")
    camera = register(
        client, headers, stream_url=simulator.url("/secure"), sub_stream_url=service.url("/sub")
    )
    assert camera["sub_stream_url"] == service.url("/sub")  # shown without anyone's login
    with runtime.sessions() as session:
        url, secrets = open_url(session.get(Camera, camera["id"]), runtime.credentials, True)
    assert (url, secrets) == (service.url("/sub"), [])
    # What a probe (FFmpeg) and the gateway's own RTSP client send there: no Authorization.
    assert probe(url, FAST, policy=LOOPBACK_ALLOWED).reason == "unauthorized"

    async def native_open() -> None:
        client_ = RtspClient(url, 2.0, lambda packet: None)
        try:
            with pytest.raises(RtspError, match="login is required"):
                await client_.open()
        finally:
            client_.close()

    run_in_thread(native_open())
    assert recorder.accepted >= 2 and recorder.requests
    assert recorder.authorizations == []
    # A sub-stream on the camera's own place still gets the login.
    patched = client.patch(
        f"/api/v1/cameras/{camera['id']}",
        headers=headers,
        json={"sub_stream_url": simulator.url("/secure", with_credentials=False) + "?sub=1"},
    )
    assert patched.status_code == 200 and ":****@" in patched.json()["sub_stream_url"]
    with runtime.sessions() as session:
        url, secrets = open_url(session.get(Camera, camera["id"]), runtime.credentials, True)
    assert secrets == [SIM_PASSWORD] and probe(url, FAST, policy=LOOPBACK_ALLOWED).live


def test_a_sub_stream_elsewhere_cannot_carry_a_login(
    client: TestClient, auth, simulator: SimulatorThread, other_host
) -> None:
    service, _ = other_host
    elsewhere = service.url("/sub").replace("rtsp://", "rtsp://admin:khac-123@")
    response = client.post(
        "/api/v1/cameras",
        headers=auth("commune"),
        json={"name": "x", "unit_code": LOC_THANH, "stream_url": simulator.url("/secure"),
              "sub_stream_url": elsewhere},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "sub_stream_credentials"
    assert "khac-123" not in response.text
