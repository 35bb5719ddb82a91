"""A busy database answers a quick 503 with Retry-After, and the readiness check says so
(issue #10, finding 8). The lock is held by another connection, as another process would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from dieuhanh.app import create_app
from dieuhanh.core.db.busy import is_busy
from dieuhanh.core.db.engine import Timeouts, make_engine
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.catalog.periods import PeriodType, period_of
from tests.conftest import LOC_THANH, token_for

# Small waits: the test shows the wait is the configured one, not the 30 s it used to be.
QUICK = {"lock_timeout_seconds": 0.5, "health_timeout_seconds": 0.3, "pool_timeout_seconds": 0.5}


@contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    """SQLite: the one write lock (BEGIN IMMEDIATE). PostgreSQL: the values table, exclusively."""
    engine = make_engine(database_url)
    connection = engine.raw_connection()
    cursor = connection.cursor()
    try:
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        else:
            cursor.execute("LOCK TABLE data_values IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        connection.rollback()
        cursor.close()
        connection.close()
        engine.dispose()


def value(runtime: Runtime, number: str) -> dict[str, str]:
    period = period_of(PeriodType.MONTHLY, runtime.today()).code
    return {"de": "DOSSIERS_RECEIVED", "pe": period, "ou": LOC_THANH, "co": "ONLINE",
            "value": number}  # fmt: skip


def test_a_locked_database_gives_a_quick_503_and_recovers(database_url, make_runtime) -> None:
    runtime = make_runtime(database_url, database=QUICK)
    with TestClient(create_app(runtime=runtime)) as client:
        commune = token_for(client, "commune")
        assert client.get("/api/v1/health").json()["database"] == "ok"
        with write_lock_held(database_url):
            refused = client.put("/api/v1/dataValues", json=value(runtime, "3"), headers=commune)
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"] == "1"
            assert refused.json()["error"] == {
                "code": "database_busy",
                "message": "The database is busy; try again in 1 s.",
            }
            health = client.get("/api/v1/health")
            assert health.status_code == 503 and health.headers["Retry-After"] == "1"
            assert health.json()["database"] == "busy" and health.json()["status"] == "error"
            live = client.get("/api/v1/health/live")
            assert live.status_code == 200 and live.json()["status"] == "ok"
        saved = client.put("/api/v1/dataValues", json=value(runtime, "3"), headers=commune)
        assert saved.status_code == 200, saved.text
        health = client.get("/api/v1/health")
        assert health.status_code == 200 and health.json()["database"] == "ok"


def test_the_engine_waits_only_the_configured_time(runtime) -> None:
    with runtime.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        else:
            assert connection.execute(text("SHOW lock_timeout")).scalar() == "5s"
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "2min"
    assert runtime.engine.pool.timeout() == 5  # type: ignore[attr-defined]


def test_no_free_connection_is_busy(database_url) -> None:
    engine = make_engine(database_url, Timeouts(pool=0.2), pool_size=1, max_overflow=0)
    try:
        with engine.connect(), pytest.raises(sa_exc.TimeoutError) as raised:
            engine.connect()
        assert is_busy(raised.value)
    finally:
        engine.dispose()


def test_an_unreachable_database_fails_the_readiness_check(make_runtime) -> None:
    runtime = make_runtime("postgresql+psycopg://postgres@127.0.0.1:9/none", database=QUICK)
    with TestClient(create_app(runtime=runtime)) as client:
        health = client.get("/api/v1/health")
        assert health.status_code == 503 and health.json()["database"] == "unreachable"
        assert "Retry-After" not in health.headers
        assert client.get("/api/v1/health/live").status_code == 200
    assert date.today()  # the live check needed no database
