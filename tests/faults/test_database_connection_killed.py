"""PostgreSQL ends the importing session's connection in the middle of a dataValueSets import.

The fault is PostgreSQL's own (``pg_terminate_backend``: what a restart, a failover or an
administrator does), so this test runs on PostgreSQL only; SQLite is in-process and has no
connection to lose.

"Mid-import" is made deterministic rather than timed: the test holds an exclusive lock on the
history table, so the import blocks on its first history insert — its values already written,
not yet committed — and the test terminates exactly that backend (the one waiting on the lock).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text

from dieuhanh.app import create_app
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.catalog.models import DataValue, DataValueChange
from dieuhanh.units.models import Unit
from tests.conftest import LOC_THANH, LONG_THANH, BackendPool, token_for
from tests.indicators.entry_setup import build, stored

MEASURES = [
    ("PROCESSED", "ONLINE"),
    ("PROCESSED", "IN_PERSON"),
    ("OVERDUE", "ONLINE"),
    ("OVERDUE", "IN_PERSON"),
    ("AMOUNT", "default"),
    ("RATE", "default"),
]


@pytest.fixture
def postgres_runtime(
    backend_pool: BackendPool, make_runtime: Callable[..., Runtime]
) -> Iterator[Runtime]:
    backend = backend_pool.get("postgresql")
    url = backend.copy_template()
    yield make_runtime(url)
    backend.drop(url)


def communes(runtime: Runtime) -> list[str]:
    """The province's communes outside the test form (whose closed periods would conflict)."""
    with runtime.sessions() as session:
        province = session.scalars(select(Unit).where(Unit.code == "75")).one()
        codes = session.scalars(select(Unit.code).where(Unit.parent_id == province.id))
        return sorted(set(codes) - {LOC_THANH, LONG_THANH})


def rows(units: list[str], months: range, value: str) -> list[dict[str, str]]:
    return [
        {"dataElement": element, "categoryOptionCombo": option, "period": f"2025{month:02d}",
         "orgUnit": unit, "value": value}
        for unit in units for month in months for element, option in MEASURES
    ]  # fmt: skip


def post(client: TestClient, headers: dict[str, str], values: list[dict[str, str]]) -> Any:
    return client.post("/api/v1/dataValueSets", json={"dataValues": values}, headers=headers)


def wait_for_blocked_backend(admin: Any, database: str, locker_pid: int) -> int:
    """The pid of the import's backend once it waits on the test's lock (bounded)."""
    query = text(
        "SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> :locker "
        "AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with admin.connect() as connection:
            pid = connection.scalar(query, {"db": database, "locker": locker_pid})
        if pid is not None:
            return int(pid)
        time.sleep(0.05)
    raise AssertionError("the import never reached its history insert")


@pytest.mark.slow
def test_import_whose_connection_is_killed_stores_nothing_and_a_rerun_is_idempotent(
    postgres_runtime: Runtime,
) -> None:
    runtime = postgres_runtime
    with runtime.sessions() as session:
        build(session)
    units = communes(runtime)
    earlier = rows(units[:10], range(6, 7), "1")  # June, committed before the fault
    big = rows(units, range(6, 10), "7")  # June (updates the earlier ones) to September
    database = runtime.settings.database_url.rsplit("/", 1)[1]
    admin = create_engine(runtime.settings.database_url, isolation_level="AUTOCOMMIT")
    with TestClient(create_app(runtime=runtime)) as client:
        headers = token_for(client, "admin")
        assert post(client, headers, earlier).json()["importCount"]["imported"] == len(earlier)
        with runtime.sessions() as session:
            before = stored(session)
        responses: list[Any] = []
        importer = threading.Thread(target=lambda: responses.append(post(client, headers, big)))
        try:
            with runtime.engine.connect() as locker:
                locker.execute(text("LOCK TABLE data_value_changes IN ACCESS EXCLUSIVE MODE"))
                locker_pid = locker.scalar(text("SELECT pg_backend_pid()"))
                importer.start()
                victim = wait_for_blocked_backend(admin, database, locker_pid)
                with admin.connect() as connection:
                    connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
                locker.rollback()  # releases the lock
        finally:
            importer.join(60)
            admin.dispose()
        assert not importer.is_alive(), "the import did not answer within 60 s"

        (killed,) = responses
        assert killed.status_code == 503, killed.text
        error = killed.json()["error"]
        assert error["code"] == "database_unavailable"
        assert "connection to the database was lost" in error["message"]
        with runtime.sessions() as session:
            assert stored(session) == before  # atomic: nothing of it, nothing earlier lost
            assert session.scalar(select(func.count()).select_from(DataValueChange)) == len(earlier)

        first = post(client, headers, big).json()["importCount"]
        assert (first["imported"], first["updated"]) == (len(big) - len(earlier), len(earlier))
        again = post(client, headers, big).json()["importCount"]
        assert again == {"imported": 0, "updated": 0, "ignored": len(big), "deleted": 0}

    with runtime.sessions() as session:
        values = stored(session)
        assert session.scalar(select(func.count()).select_from(DataValue)) == len(big)
        assert session.scalar(select(func.count()).select_from(DataValueChange)) == len(
            earlier
        ) + len(big)
    assert len(values) == len(big) and set(v for v, _ in values.values()) == {"7"}
