"""An open video stream ends when its viewer's login ends (issue #10, finding 5): the gateway
checks the session or token the stream was asked with every `gateway.credential_check_seconds`.
Real RTSP camera in, real uvicorn, real WebSocket client."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx2 as httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from dieuhanh.app import create_app
from dieuhanh.core.runtime import Runtime
from dieuhanh.gateway.fmp4 import Fragment, SegmentReader
from dieuhanh.simulator import SimulatedCamera, run_simulator
from tests.browser import serving_app
from tests.conftest import LOC_THANH, PASSWORD

CHECK_SECONDS = 0.3
NEW_PASSWORD = "một-mật-khẩu-mới-dài"


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_simulator([SimulatedCamera("/cam")], cache_dir=tmp_path_factory.mktemp("c")) as sim:
        yield sim.url("/cam")


@pytest.fixture
def base(database_url: str, make_runtime: Callable[..., Runtime]) -> Iterator[str]:
    runtime = make_runtime(
        database_url,
        gateway={"secret": "test-gateway-secret", "credential_check_seconds": CHECK_SECONDS},
    )
    with serving_app(create_app(runtime=runtime)) as url:
        yield url


@contextmanager
def login(base: str, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as client:
        body = {"username": username, "password": PASSWORD}
        token = client.post("/api/v1/auth/token", json=body)
        assert token.status_code == 200, token.text
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client


def stream(client: httpx.Client, camera_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/cameras/{camera_id}/stream", params={"codecs": "avc1"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def register(admin: httpx.Client, url: str) -> int:
    body = {"name": "Cổng UBND", "unit_code": LOC_THANH, "stream_url": url}
    created = admin.post("/api/v1/cameras", json=body)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_a_password_change_closes_the_open_stream(base: str, camera: str) -> None:
    with login(base, "admin") as admin, login(base, "commune") as viewer:
        camera_id = register(admin, camera)
        url = stream(viewer, camera_id)["mse_url"]
        reader = SegmentReader()
        with connect(url, open_timeout=10) as socket:
            items: list[Any] = []
            while not any(isinstance(item, Fragment) for item in items):
                items.extend(reader.feed(socket.recv(timeout=10)))
            changed = viewer.patch(
                "/api/v1/users/commune",
                json={"password": NEW_PASSWORD, "current_password": PASSWORD},
            )
            assert changed.status_code == 200
            # Pictures keep coming until the next check; bounded should it never come.
            deadline = time.monotonic() + 60 * CHECK_SECONDS + 30
            with pytest.raises(ConnectionClosed) as closed:
                while time.monotonic() < deadline:
                    socket.recv(timeout=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401
        assert closed.value.rcvd.reason.startswith("login_ended: ")


def test_a_disabled_account_loses_its_hls_stream(base: str, camera: str) -> None:
    with login(base, "admin") as admin, login(base, "viewer") as viewer:
        camera_id = register(admin, camera)
        master = viewer.get(stream(viewer, camera_id)["hls_url"])
        assert master.status_code == 200, master.text
        playlist = str(httpx.URL(master.url).join(master.text.strip().splitlines()[-1]))
        assert viewer.get(playlist).status_code == 200
        assert admin.patch("/api/v1/users/viewer", json={"is_active": False}).status_code == 200
        # A request once a check interval has passed is refused, and says why.
        threading.Event().wait(CHECK_SECONDS)
        refused = httpx.get(playlist, timeout=10)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "login_ended"
