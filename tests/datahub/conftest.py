"""The data hub's fixtures: a runtime allowed to fetch from loopback, with short timeouts, and
the iGate stand-in (a real HTTP server) filing dossiers in three communes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from dieuhanh.app import create_app
from dieuhanh.core.config import PRIVATE_NETWORKS
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.standins import IGateStandIn
from tests.conftest import LOC_THANH, LONG_THANH, token_for

HUB_SETTINGS = {
    "allowed_networks": [*PRIVATE_NETWORKS, "127.0.0.0/8"],
    "request_timeout_seconds": 1.5,
    "request_attempts": 2,
    "request_max_delay_seconds": 1,
}
COMMUNES = [(LOC_THANH, "Xã Lộc Thạnh"), (LONG_THANH, "Phường Long Thành"), ("25195", "Xã Tân Phú")]


@pytest.fixture
def hub(database_url: str, make_runtime: Callable[..., Runtime]) -> Runtime:
    return make_runtime(database_url, datahub=HUB_SETTINGS)


@pytest.fixture
def igate() -> Iterator[IGateStandIn]:
    stand_in = IGateStandIn(list(COMMUNES), dossiers=120, page_size=25)
    stand_in.start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def hub_client(hub: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=hub)) as test_client:
        yield test_client


@pytest.fixture
def hub_auth(hub_client: TestClient) -> Callable[[str], dict[str, str]]:
    return lambda username: token_for(hub_client, username)
