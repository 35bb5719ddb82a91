"""The login rate limit: atomic under parallel requests, and keyed so that an attacker cannot
lock the real user out (issue #10, finding 4)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from dieuhanh.app import create_app
from dieuhanh.auth.models import LoginThrottle
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.runtime import Runtime
from tests.browser import serving_app
from tests.conftest import PASSWORD

PARALLEL = 16


class Gate:
    """ASGI middleware holding every login request until all of them have arrived, so that the
    test proves they were in flight together (none was answered before the last one came in)."""

    def __init__(self, app: Any, expected: int) -> None:
        self.app = app
        self.expected = expected
        self.arrived = 0
        self.opened: asyncio.Event | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/api/v1/auth/token":
            if self.opened is None:
                self.opened = asyncio.Event()
            self.arrived += 1
            if self.arrived >= self.expected:
                self.opened.set()
            # Bounded: a missing request fails the assertion on `arrived`, not the test run.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.opened.wait(), timeout=20)
        await self.app(scope, receive, send)


@pytest.fixture
def gated(runtime: Runtime) -> Iterator[tuple[str, Gate]]:
    app = create_app(runtime=runtime)
    gate = Gate(app, PARALLEL)
    with serving_app(gate) as base:
        yield base, gate


def test_parallel_wrong_passwords_are_limited(gated: tuple[str, Gate], runtime: Runtime) -> None:
    base, gate = gated
    barrier = threading.Barrier(PARALLEL, timeout=20)

    def attempt(_: int) -> int:
        with httpx.Client(base_url=base, timeout=60) as client:
            barrier.wait()
            body = {"username": "dept", "password": "wrong password"}
            return client.post("/api/v1/auth/token", json=body).status_code

    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = list(pool.map(attempt, range(PARALLEL)))
    assert gate.arrived == PARALLEL and gate.opened is not None and gate.opened.is_set()
    limit = runtime.settings.auth.login_max_failures
    assert sorted(statuses) == [401] * limit + [429] * (PARALLEL - limit)


def client_from(runtime: Runtime, address: str) -> TestClient:
    return TestClient(create_app(runtime=runtime), client=(address, 40000))


def wrong(client: TestClient, username: str) -> int:
    body = {"username": username, "password": "wrong password"}
    return client.post("/api/v1/auth/token", json=body).status_code


def right(client: TestClient, username: str) -> int:
    body = {"username": username, "password": PASSWORD}
    return client.post("/api/v1/auth/token", json=body).status_code


def test_an_attacker_cannot_lock_the_real_user_out(runtime: Runtime) -> None:
    limit = runtime.settings.auth.login_max_failures
    with (
        client_from(runtime, "203.0.113.66") as attacker,
        client_from(runtime, "198.51.100.7") as office,
    ):
        statuses = [wrong(attacker, "commune") for _ in range(limit + 3)]
        assert statuses == [401] * limit + [429] * 3
        locked = attacker.post(
            "/api/v1/auth/token", json={"username": "commune", "password": PASSWORD}
        )
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
        # The real user, from the office, logs in at once.
        assert right(office, "commune") == 200
        # The lock is on the attacker's address for that account, not on the account.
        assert wrong(office, "commune") == 401


def test_one_address_guessing_many_accounts_is_limited(runtime: Runtime) -> None:
    per_address = runtime.settings.auth.login_address_max_failures
    names = ["admin", "operator", "dept", "commune", "commune2", "viewer", "viewer_commune"]
    with client_from(runtime, "203.0.113.9") as attacker, client_from(runtime, "10.1.1.1") as ok:
        statuses = [wrong(attacker, names[i % len(names)]) for i in range(per_address + 2)]
        assert statuses == [401] * per_address + [429] * 2
        assert right(attacker, "viewer") == 429  # the whole address waits
        assert right(ok, "viewer") == 200


def test_a_success_clears_its_own_failures_only(runtime: Runtime) -> None:
    limit = runtime.settings.auth.login_max_failures
    with client_from(runtime, "192.0.2.10") as client:
        for _ in range(limit - 1):
            assert wrong(client, "viewer") == 401
        assert right(client, "viewer") == 200
        # The pair's count starts again: a person who mistyped is not one step from a lock.
        for _ in range(limit):
            assert wrong(client, "viewer") == 401
        assert wrong(client, "viewer") == 429


def test_an_account_under_attack_from_many_addresses_is_slowed_not_locked(
    make_runtime: Any, database_url: str
) -> None:
    runtime = make_runtime(
        database_url, auth={"login_account_slowdown_after": 3, "login_max_failures": 5}
    )
    for index in range(3):
        with client_from(runtime, f"203.0.113.{index + 1}") as bot:
            assert wrong(bot, "operator") == 401
    # Now each address gets one try at this account per window: a second failure waits...
    with client_from(runtime, "203.0.113.50") as bot:
        assert wrong(bot, "operator") == 401
        assert wrong(bot, "operator") == 429
    # ... but the real user's first try, from any address, is checked and works.
    with client_from(runtime, "198.51.100.20") as office:
        assert right(office, "operator") == 200


def test_the_window_passes(client: TestClient, runtime: Runtime) -> None:
    limit = runtime.settings.auth.login_max_failures
    for _ in range(limit):
        assert wrong(client, "dept") == 401
    assert right(client, "dept") == 429
    with runtime.sessions() as session:
        session.execute(update(LoginThrottle).values(window_start=utcnow().replace(year=2020)))
        session.commit()
    assert right(client, "dept") == 200
