"""Request bodies are limited before they are read (issue #10, finding 7): 1 MB for every
route, more for the imports and only once the request is logged in. ``app.state.body_counter``
counts the body bytes the middleware handed to the application: 0 means the body was not read."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from dieuhanh.app import create_app
from dieuhanh.indicators.catalog.periods import PeriodType, period_of
from tests.browser import serving_app
from tests.conftest import LOC_THANH

MB = 1024 * 1024
BIG = 50 * MB


def read_so_far(client: TestClient) -> int:
    return client.app.state.body_counter.bytes  # type: ignore[attr-defined]


def test_an_anonymous_big_body_is_refused_unread(client: TestClient) -> None:
    body = b"x" * BIG
    refused = client.put(
        "/api/v1/dataValues", content=body, headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 413
    assert refused.json()["error"] == {
        "code": "payload_too_large",
        "message": "The request body is larger than 1 MB, the limit of PUT /api/v1/dataValues "
        "(setting limits.max_body_bytes).",
    }
    # An import route accepts more, but not from someone who is not logged in.
    anonymous = client.post(
        "/api/v1/dataValueSets", content=body, headers={"Content-Type": "text/csv"}
    )
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    upload = client.post("/api/v1/cameras/import", files={"file": ("survey.csv", body)})
    assert upload.status_code == 401
    assert read_so_far(client) == 0


def test_a_bad_token_is_refused_before_the_import_is_read(client: TestClient) -> None:
    """An import route's body dependency checks the credentials before reading a byte."""
    bad = {"Authorization": "Bearer dh_not-a-token"}
    for response in (
        client.post("/api/v1/dataValueSets", content=b"x" * (5 * MB), headers=bad),
        client.post("/api/v1/units/import", files={"file": ("u.csv", b"x" * 4 * MB)}, headers=bad),
    ):
        assert response.status_code == 401, response.text
    assert read_so_far(client) == 0


def test_an_import_within_its_limit_works_and_beyond_it_is_refused(
    client: TestClient, auth, runtime
) -> None:
    commune, admin = auth("commune"), auth("admin")
    period = period_of(PeriodType.MONTHLY, runtime.today()).code
    document = {
        "dataSet": "COMMUNE_MONTHLY", "period": period, "orgUnit": LOC_THANH,
        "dataValues": [
            {"dataElement": "DOCS_INCOMING", "value": "40"},
        ],
    }  # fmt: skip
    padded = json.dumps(document).replace("{", "{" + " " * (3 * MB), 1).encode()
    assert len(padded) > 3 * MB
    before = read_so_far(client)
    done = client.post(
        "/api/v1/dataValueSets",
        content=padded,
        headers=commune | {"Content-Type": "application/json"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["importCount"]["imported"] == 1
    assert read_so_far(client) - before == len(padded)

    before = read_so_far(client)
    too_big = client.post(
        "/api/v1/units/import", files={"file": ("units.csv", b"x" * (6 * MB))}, headers=admin
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["message"] == (
        "The request body is larger than 5 MB, the limit of POST /api/v1/units/import."
    )
    assert read_so_far(client) == before


def test_openapi_names_the_import_limits(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert paths["/api/v1/units/import"]["post"]["x-max-body-bytes"] == 5 * MB
    assert paths["/api/v1/dataValueSets"]["post"]["x-max-body-bytes"] == 100 * MB
    multipart = paths["/api/v1/cameras/import"]["post"]["requestBody"]["content"]
    assert set(multipart["multipart/form-data"]["schema"]["properties"]) == {
        "file",
        "dry_run",
        "unit_code",
    }


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    block = b"x" * size
    for _ in range(total // size):
        yield block


def test_a_streamed_body_is_cut_off_at_the_limit(sqlite_runtime) -> None:
    """On a real server, a chunked body (no Content-Length) is counted as it arrives."""
    app = create_app(runtime=sqlite_runtime)
    with serving_app(app) as url, httpx.Client(timeout=30) as http:
        try:
            response = http.put(
                f"{url}/api/v1/dataValues",
                content=chunks(BIG),
                headers={"Content-Type": "application/json"},
            )
        except httpx.TransportError:
            pass  # the server answered and closed while the client was still sending
        else:
            assert response.status_code == 413
            assert "larger than 1 MB" in response.json()["error"]["message"]
        assert app.state.body_counter.bytes <= MB
        assert http.get(f"{url}/api/v1/health/live").status_code == 200


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/api/v1/auth/token", "application/json"), ("/login", "application/x-www-form-urlencoded")],
)
def test_forms_and_logins_have_the_default_limit(
    client: TestClient, path: str, content_type: str
) -> None:
    response = client.post(
        path, content=b"a=" + b"x" * (2 * MB), headers={"Content-Type": content_type}
    )
    assert response.status_code == 413
    assert read_so_far(client) == 0
