"""A plain read does not write (issue #10, finding 8): the last-used time of a token or a session
is written at most once per `credentials.LAST_USED_RESOLUTION`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from dieuhanh.auth.credentials import LAST_USED_RESOLUTION
from dieuhanh.auth.models import ApiToken, WebSession
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.runtime import Runtime
from tests.conftest import login_form, token_for

WRITES = ("INSERT", "UPDATE", "DELETE")


@contextmanager
def writes(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(WRITES):
            seen.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)


def test_reads_with_a_token_write_at_most_once(client: TestClient, runtime: Runtime) -> None:
    headers = token_for(client, "viewer")
    with writes(runtime) as seen:
        for _ in range(2):
            assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert len(seen) <= 1, seen
    with writes(runtime) as seen:
        for _ in range(3):
            assert client.get("/api/v1/units/75", headers=headers).status_code == 200
    assert seen == []


def test_reads_with_a_session_write_at_most_once(client: TestClient, runtime: Runtime) -> None:
    assert login_form(client, "viewer").status_code == 303
    with writes(runtime) as seen:
        for _ in range(3):
            assert client.get("/api/v1/auth/me").status_code == 200
    assert seen == []


def test_a_stale_last_used_time_is_written_once(client: TestClient, runtime: Runtime) -> None:
    headers = token_for(client, "viewer")
    assert login_form(client, "viewer").status_code == 303
    stale = utcnow() - LAST_USED_RESOLUTION - timedelta(seconds=1)
    with runtime.sessions() as session:
        session.execute(update(ApiToken).values(last_used_at=stale))
        session.execute(update(WebSession).values(last_seen_at=stale))
        session.commit()
    with writes(runtime) as seen:
        for _ in range(2):
            assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
            assert client.get("/api/v1/auth/me").status_code == 200
    assert len(seen) == 2, seen  # one for the token, one for the session
    with runtime.sessions() as session:
        assert session.scalar(select(ApiToken.last_used_at)) > stale
        assert session.scalar(select(WebSession.last_seen_at)) > stale


@contextmanager
def busy(runtime: Runtime) -> Iterator[None]:
    """Another transaction holding what a last-used write needs, as a long import would: the
    write lock of SQLite, the token rows on PostgreSQL."""
    with runtime.engine.connect() as connection:
        if runtime.engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            # Bounded: should a read wait after all, the server ends this holder in 20 s.
            connection.exec_driver_sql("SET idle_in_transaction_session_timeout = '20s'")
            connection.execute(select(ApiToken.id).with_for_update())
        try:
            yield
        finally:
            connection.rollback()


def test_a_read_does_not_wait_for_a_busy_database(client: TestClient, runtime: Runtime) -> None:
    headers = token_for(client, "viewer")
    stale = utcnow() - LAST_USED_RESOLUTION - timedelta(seconds=1)
    with runtime.sessions() as session:
        session.execute(update(ApiToken).values(last_used_at=stale))
        session.commit()
    with busy(runtime):
        # Without the bounded wait this read would wait for the other transaction (30 s on
        # SQLite, for ever on PostgreSQL) and fail.
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    with runtime.sessions() as session:
        assert session.scalar(select(ApiToken.last_used_at)) == stale  # skipped, not waited
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    with runtime.sessions() as session:
        assert session.scalar(select(ApiToken.last_used_at)) > stale  # the next read wrote it
