"""Open311 GeoReport v2 at /open311/v2/: every answer validates against the GeoReport v2
schemas (tests/citizen/open311_schemas, written from the spec), in JSON and XML; posting needs an
api_key an administrator issued and can revoke; errors come in the spec's format and codes; a
flood from one key is refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator, FormatChecker

from tests.citizen.conftest import Places

Auth = Callable[[str], dict[str, str]]
SCHEMAS = Path(__file__).parent / "open311_schemas"
BASE = "/open311/v2"


def valid(name: str, data: Any) -> None:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    errors = list(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(data))
    assert not errors, [e.message for e in errors]


@pytest.fixture
def api_key(client: TestClient, auth: Auth) -> str:
    response = client.post("/api/v1/open311/keys", json={"name": "Ứng dụng Đồng Nai số"},
                           headers=auth("admin"))  # fmt: skip
    assert response.status_code == 201, response.text
    return str(response.json()["api_key"])


def post(client: TestClient, fmt: str = "json", **form: Any) -> Any:
    return client.post(f"{BASE}/requests.{fmt}", data=form)


def test_discovery_services_and_definitions(client: TestClient) -> None:
    valid("discovery", client.get(f"{BASE}/discovery.json").json())
    services = client.get(f"{BASE}/services.json").json()
    valid("services", services)
    assert {s["service_code"] for s in services} >= {"road_damage", "lighting", "flooding"}
    definition = client.get(f"{BASE}/services/road_damage.json").json()
    valid("service_definition", definition)
    assert definition["attributes"][0]["code"] == "hazard"
    missing = client.get(f"{BASE}/services/nope.json")
    assert missing.status_code == 404
    valid("errors", missing.json())
    xml = ElementTree.fromstring(client.get(f"{BASE}/services.xml").content)
    assert xml.tag == "services" and xml.find("service/service_code") is not None


def test_a_request_posted_read_back_and_found_by_token(
    client: TestClient, api_key: str, places: Places
) -> None:
    lat, lon = places.inside
    description = "<script>alert(1)</script> Cống thoát nước bị nghẹt, nước tràn lên đường."
    posted = post(client, api_key=api_key, service_code="flooding", lat=lat, long=lon,
                  description=description, email="nguoidan@example.vn",
                  first_name="An")  # fmt: skip
    assert posted.status_code == 200, posted.text
    valid("post_response", posted.json())
    code, token = posted.json()[0]["service_request_id"], posted.json()[0]["token"]
    one = client.get(f"{BASE}/requests/{code}.json").json()
    valid("requests", one)
    request = one[0]
    assert request["agency_responsible"] == "Phường Biên Hòa"
    assert request["status"] == "open" and request["service_code"] == "flooding"
    assert request["description"] == description  # kept as text; never rendered as HTML
    assert request["expected_datetime"].endswith("+07:00")
    assert "nguoidan@example.vn" not in json.dumps(one) and "first_name" not in request
    tokens = client.get(f"{BASE}/tokens/{token}.json").json()
    valid("tokens", tokens)
    assert tokens == [{"service_request_id": code, "token": token}]
    listed = client.get(f"{BASE}/requests.json?status=open&service_code=flooding").json()
    valid("requests", listed)
    assert code in [r["service_request_id"] for r in listed]
    xml = ElementTree.fromstring(client.get(f"{BASE}/requests/{code}.xml").content)
    assert xml.tag == "service_requests" and xml.findtext("request/service_request_id") == code


@pytest.mark.parametrize(
    ("form", "status", "words"),
    [
        (
            {
                "service_code": "flooding",
                "address_string": "xã Lộc Thạnh",
                "phone": "0912345678",
                "description": "Ngập",
            },
            403,
            "api_key",
        ),
        (
            {
                "api_key": "KEY",
                "service_code": "nope",
                "address_string": "xã Lộc Thạnh",
                "phone": "0912345678",
                "description": "x",
            },
            400,
            "Unknown category",
        ),
        (
            {
                "api_key": "KEY",
                "service_code": "garbage",
                "phone": "0912345678",
                "description": "x",
            },
            400,
            "point",
        ),
        (
            {
                "api_key": "KEY",
                "service_code": "garbage",
                "lat": "10.9",
                "long": "abc",
                "phone": "0912345678",
                "description": "x",
            },
            400,
            "not a number",
        ),
        (
            {
                "api_key": "KEY",
                "service_code": "garbage",
                "address_string": "xã Lộc Thạnh",
                "description": "x",
            },
            400,
            "phone number or an e-mail",
        ),
        (
            {
                "api_key": "KEY",
                "service_code": "garbage",
                "address_string": "xã Lộc Thạnh",
                "phone": "0912345678",
                "description": "x" * 4001,
            },
            400,
            "at most 4000",
        ),
    ],
)
def test_bad_posts_are_refused_in_the_specs_format(
    client: TestClient, api_key: str, form: dict[str, Any], status: int, words: str
) -> None:
    if form.get("api_key") == "KEY":
        form = {**form, "api_key": api_key}
    for fmt in ("json", "xml"):
        response = post(client, fmt, **form)
        assert response.status_code == status, response.text
        if fmt == "json":
            valid("errors", response.json())
            assert words in response.json()[0]["description"]
        else:
            error = ElementTree.fromstring(response.content)
            assert error.tag == "errors" and error.findtext("error/code") == str(status)


def test_a_revoked_key_and_a_flood(
    client: TestClient, auth: Auth, api_key: str, runtime: Any
) -> None:
    form = {"api_key": api_key, "service_code": "garbage", "address_string": "xã Lộc Thạnh",
            "phone": "0912345678", "description": "Rác tồn đọng"}  # fmt: skip
    limit = runtime.settings.citizen.max_reports_per_hour
    answers = [post(client, **form).status_code for _ in range(limit + 2)]
    assert answers == [200] * limit + [429, 429]
    keys = client.get("/api/v1/open311/keys", headers=auth("admin")).json()
    assert "api_key" not in keys[0] and "key_hash" not in keys[0]
    revoked = client.post(f"/api/v1/open311/keys/{keys[0]['id']}/revoke", headers=auth("admin"))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert post(client, **form).status_code == 403
    forbidden = client.post("/api/v1/open311/keys", json={"name": "x"}, headers=auth("operator"))
    assert forbidden.status_code == 403
