"""The camera registry API: credentials never leave, the unit scope holds, bad input is refused."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dieuhanh.audit.models import AuditEntry
from dieuhanh.cameras.models import Camera
from dieuhanh.cameras.service import open_url
from dieuhanh.core.runtime import Runtime
from tests.conftest import LOC_THANH, LONG_THANH

SECRET = "Mk-B1m@t-2026"
URL = f"rtsp://admin:{SECRET.replace('@', '%40')}@10.10.1.20:554/Streaming/Channels/101"


def register(client: TestClient, headers: dict[str, str], **fields: object) -> dict:
    body = {
        "name": "Camera sảnh TTPVHCC",
        "unit_code": LOC_THANH,
        "stream_url": URL,
        "lat": 11.83,
        "lon": 106.6,
        **fields,
    }
    response = client.post("/api/v1/cameras", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_register_and_read_with_the_password_masked(
    client: TestClient, auth, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = auth("commune")
    camera = register(
        client, headers, purpose="public_service", sub_stream_url=URL.replace("101", "102")
    )
    assert isinstance(camera["id"], int)
    assert camera["stream_url"] == "rtsp://admin:****@10.10.1.20:554/Streaming/Channels/101"
    assert camera["sub_stream_url"].endswith(":****@10.10.1.20:554/Streaming/Channels/102")
    assert camera["has_credentials"] is True
    assert camera["status"]["state"] == "unknown"
    responses = [
        client.get(f"/api/v1/cameras/{camera['id']}", headers=headers),
        client.get("/api/v1/cameras", headers=headers),
        client.get("/api/v1/cameras/summary", headers=headers),
        client.get(f"/cameras/{camera['id']}", headers=headers),
    ]
    everything = "".join(r.text for r in responses) + caplog.text
    assert SECRET not in everything and "B1m%40t" not in everything
    with runtime.sessions() as session:
        stored = session.get(Camera, camera["id"])
        assert SECRET not in (stored.credentials or "") and SECRET not in stored.stream_url
        url, secrets = open_url(stored, runtime.credentials)
        assert url == URL and secrets == [SECRET]
        audit = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "cameras")).one()
        assert audit.after["credentials"] == "«redacted»" and SECRET not in str(audit.after)


def test_a_masked_url_sent_back_keeps_the_password(
    client: TestClient, auth, runtime: Runtime
) -> None:
    headers = auth("commune")
    camera = register(client, headers)
    patched = client.patch(
        f"/api/v1/cameras/{camera['id']}",
        headers=headers,
        json={"stream_url": camera["stream_url"], "name": "Camera cổng"},
    )
    assert patched.status_code == 200 and patched.json()["name"] == "Camera cổng"
    new_password = client.patch(
        f"/api/v1/cameras/{camera['id']}", headers=headers, json={"password": "moi-123"}
    )
    assert new_password.status_code == 200
    with runtime.sessions() as session:
        url, _ = open_url(session.get(Camera, camera["id"]), runtime.credentials)
    assert url == "rtsp://admin:moi-123@10.10.1.20:554/Streaming/Channels/101"


def test_commune_officer_cannot_register_for_another_commune(client: TestClient, auth) -> None:
    headers = auth("commune")
    response = client.post(
        "/api/v1/cameras",
        headers=headers,
        json={"name": "x", "unit_code": LONG_THANH, "stream_url": URL},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "out_of_scope"
    assert "Phường Long Thành" in response.json()["error"]["message"]
    own = register(client, headers)
    moved = client.patch(
        f"/api/v1/cameras/{own['id']}", json={"unit_code": LONG_THANH}, headers=headers
    )
    assert moved.status_code == 403
    other = register(client, auth("commune2"), unit_code=LONG_THANH)
    assert client.get(f"/api/v1/cameras/{other['id']}", headers=headers).status_code == 403
    assert client.delete(f"/api/v1/cameras/{other['id']}", headers=headers).status_code == 403
    listed = client.get("/api/v1/cameras", headers=headers).json()
    assert [c["id"] for c in listed] == [own["id"]]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"stream_url": "ftp://10.0.0.1/x"}, "unsupported_scheme"),
        ({"stream_url": "rtsp://"}, "invalid_url"),
        ({"stream_url": "rtsp://10.0.0.1:70000/x"}, "invalid_url"),
        ({"unit_code": "99999"}, "unit_not_found"),
        ({"lat": 11.0, "lon": None}, "invalid_location"),
        ({"lat": 123.0}, "invalid_input"),
        ({"name": "x" * 201}, "invalid_input"),
        ({"purpose": "spying"}, "invalid_input"),
        ({"colour": "red"}, "invalid_input"),
    ],
)
def test_bad_input_is_refused_and_nothing_stored(
    client: TestClient, auth, runtime: Runtime, fields: dict, code: str
) -> None:
    body = {
        "name": "Camera",
        "unit_code": LOC_THANH,
        "stream_url": URL,
        "lat": 11.8,
        "lon": 106.6,
        **fields,
    }
    response = client.post("/api/v1/cameras", json=body, headers=auth("admin"))
    assert response.status_code in (404, 422), response.text
    assert response.json()["error"]["code"] == code
    with runtime.sessions() as session:
        assert session.scalars(select(Camera)).all() == []


def test_allowed_networks_are_enforced(database_url: str, make_runtime) -> None:
    runtime = make_runtime(
        database_url,
        cameras={
            "credential_keys": ["dGVzdC1rZXktZm9yLWRpZXVoYW5oLXRlc3RzLTMyYmI="],
            "allowed_networks": ["10.0.0.0/8"],
        },
    )
    from dieuhanh.app import create_app
    from tests.conftest import token_for

    with TestClient(create_app(runtime=runtime)) as client:
        headers = token_for(client, "admin")
        inside = client.post(
            "/api/v1/cameras",
            headers=headers,
            json={"name": "ok", "unit_code": LOC_THANH, "stream_url": URL},
        )
        assert inside.status_code == 201
        outside = client.post(
            "/api/v1/cameras",
            headers=headers,
            json={"name": "no", "unit_code": LOC_THANH, "stream_url": "rtsp://203.0.113.9/x"},
        )
        assert outside.status_code == 422
        assert outside.json()["error"]["code"] == "url_not_allowed"


def test_list_filters_and_delete(client: TestClient, auth) -> None:
    headers = auth("operator")
    first = register(client, headers, name="Cổng chính", purpose="security")
    register(client, headers, name="Ngã tư", unit_code=LONG_THANH, purpose="traffic")
    assert (
        len(client.get("/api/v1/cameras", params={"unit": LOC_THANH}, headers=headers).json()) == 1
    )
    assert (
        len(client.get("/api/v1/cameras", params={"purpose": "traffic"}, headers=headers).json())
        == 1
    )
    assert (
        len(client.get("/api/v1/cameras", params={"q": "cong chinh"}, headers=headers).json()) == 1
    )
    assert (
        len(client.get("/api/v1/cameras", params={"state": "unknown"}, headers=headers).json()) == 2
    )
    assert (
        client.get("/api/v1/cameras", params={"state": "zombie"}, headers=headers).status_code
        == 422
    )
    summary = client.get("/api/v1/cameras/summary", headers=headers).json()
    assert (summary["total"], summary["unknown"]) == (2, 2)
    assert {u["unit_code"] for u in summary["by_unit"]} == {LOC_THANH, LONG_THANH}
    assert client.delete(f"/api/v1/cameras/{first['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/cameras/{first['id']}", headers=headers).status_code == 404
