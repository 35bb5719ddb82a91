"""Promises of the API as a whole: login everywhere but health, JSON errors, OpenAPI."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

PUBLIC = {
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/health/live"),
    ("POST", "/api/v1/auth/token"),
    # Open311 GeoReport v2 (issue #12): a public standard; posting needs its own api_key.
    ("GET", "/open311/v2/discovery.{fmt}"),
    ("GET", "/open311/v2/services.{fmt}"),
    ("GET", "/open311/v2/services/{code}.{fmt}"),
    ("GET", "/open311/v2/requests.{fmt}"),
    ("POST", "/open311/v2/requests.{fmt}"),
    ("GET", "/open311/v2/requests/{code}.{fmt}"),
    ("GET", "/open311/v2/tokens/{token}.{fmt}"),
    # CAP 1.2 feeds (issue #13) are read by anyone's receiver; issuing needs a login.
    ("GET", "/api/v1/cap/feed.xml"),
    ("GET", "/api/v1/cap/{identifier}.xml"),
}
NAMED_IN_ISSUES = {
    ("GET", "/api/v1/health"),
    ("POST", "/api/v1/emergencies"),
    ("POST", "/api/v1/emergencies/{identifier}/update"),
    ("POST", "/api/v1/emergencies/{identifier}/cancel"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/units"),
    ("GET", "/api/v1/units/{code}"),
    ("GET", "/api/v1/units/{code}/boundary"),
}


def operations(client: TestClient) -> set[tuple[str, str]]:
    spec = client.get("/api/v1/openapi.json").json()
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item}


def test_openapi_describes_the_named_endpoints(client: TestClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert operations(client) >= NAMED_IN_ISSUES


def test_every_endpoint_but_health_and_login_needs_credentials(client: TestClient) -> None:
    for method, path in sorted(operations(client) - PUBLIC):
        url = re.sub(r"\{[^}]+\}", "1", path)
        response = client.request(method, url)
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.json()["error"]["code"] == "not_authenticated"


def test_health_without_login(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["database"] == "ok"


def test_errors_are_json_with_code_and_message(client: TestClient, auth) -> None:
    headers = auth("viewer")
    for response in (
        client.get("/api/v1/no-such-thing", headers=headers),
        client.put("/api/v1/health"),
        client.get("/api/v1/units/NOPE", headers=headers),
        client.post(
            "/api/v1/auth/token", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
    ):
        error = response.json()["error"]
        assert response.status_code >= 400 and error["code"] and error["message"]


def test_security_headers(client: TestClient) -> None:
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-ID"]


def test_every_endpoint_is_documented(client: TestClient) -> None:
    documented = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text(
        encoding="utf-8"
    )
    missing = [f"{m} {p}" for m, p in sorted(operations(client)) if p not in documented]
    assert missing == [], "add these to docs/api.md"
