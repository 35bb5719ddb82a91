"""Fuzzing the intake (outside bytes from anyone): Open311 posts and the public form with
arbitrary fields end in a report or in a clear error of the right format — never a server
error — and a bad post stores nothing. Fixed, derandomized budget."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dieuhanh.citizen.models import CitizenReport
from dieuhanh.core.runtime import Runtime

FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
text = st.text(max_size=60)
field_values = st.one_of(
    text,
    st.sampled_from(
        ["road_damage", "10.95", "106.82", "", "<b>x</b>", "1e309", "nan", "0912345678"]
    ),
)
forms = st.dictionaries(
    st.sampled_from(["service_code", "lat", "long", "address_string", "description", "email",
                     "phone", "attribute[hazard]", "attribute[x]", "first_name", "device_id"]),
    field_values, max_size=8,
)  # fmt: skip


@pytest.fixture
def runtime(database_url: str, make_runtime: Callable[..., Runtime]) -> Runtime:
    """No flood limit here: every example must reach the checks."""
    return make_runtime(database_url, citizen={"max_reports_per_hour": 100_000})


@pytest.fixture
def api_key(client: TestClient, auth: Callable[[str], dict[str, str]]) -> str:
    return str(
        client.post("/api/v1/open311/keys", json={"name": "fuzz"}, headers=auth("admin")).json()[
            "api_key"
        ]
    )


def count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(CitizenReport)) or 0)


@FUZZ
@given(form=forms)
def test_open311_posts(client: TestClient, runtime: Runtime, api_key: str, form: dict) -> None:
    form = {"phone": "0912345678", "service_code": "road_damage", **form}
    before = count(runtime)
    response = client.post("/open311/v2/requests.json", data={"api_key": api_key, **form})
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert isinstance(body, list) and body
    if response.status_code == 200:
        assert body[0]["service_request_id"].startswith("PA")
        assert count(runtime) == before + 1
    else:
        assert isinstance(body[0]["description"], str) and count(runtime) == before


@FUZZ
@given(
    form=st.dictionaries(
        st.sampled_from(["category", "description", "lat", "long", "address", "phone", "email"]),
        field_values, max_size=7,
    ),
    photo=st.binary(max_size=200),
)  # fmt: skip
def test_the_public_form(client: TestClient, runtime: Runtime, form: dict, photo: bytes) -> None:
    before = count(runtime)
    files = [("photos", ("p.jpg", photo, "image/jpeg"))]
    response = client.post("/phan-anh", data=form, files=files, follow_redirects=False)
    assert response.status_code in (303, 422), response.text[:300]
    assert count(runtime) == before + (response.status_code == 303)
