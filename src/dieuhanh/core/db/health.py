"""The readiness probe: can the database be reached, and can a write start within a short wait?

SQLite: ``BEGIN IMMEDIATE`` takes the one write lock (and gives it back at once). PostgreSQL: every
table of the schema is locked in ROW EXCLUSIVE mode, the lock ordinary writes take, so a table
locked by a migration, ``LOCK TABLE`` or ``VACUUM FULL`` shows as busy; nothing is written.
"""

from __future__ import annotations

import logging
from typing import Literal

from sqlalchemy import Connection, Engine, text

from dieuhanh.core.db.busy import is_busy

log = logging.getLogger(__name__)

Health = Literal["ok", "busy", "unreachable"]


def probe(engine: Engine, timeout_seconds: float, lock_timeout_seconds: float) -> Health:
    """``lock_timeout_seconds``: the engine's own wait, restored on a SQLite connection."""
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                _sqlite_write_lock(connection, timeout_seconds, lock_timeout_seconds)
            else:
                _postgresql_write_locks(connection, timeout_seconds)
    except Exception as exc:  # any failure is reported by the check, not raised
        if is_busy(exc):
            return "busy"
        log.warning("health check: database unreachable: %s", exc.__class__.__name__)
        return "unreachable"
    return "ok"


def _sqlite_write_lock(connection: Connection, timeout: float, restore: float) -> None:
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA busy_timeout={round(timeout * 1000)}")
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("ROLLBACK")
    finally:
        cursor.execute(f"PRAGMA busy_timeout={round(restore * 1000)}")
        cursor.close()


def _postgresql_write_locks(connection: Connection, timeout: float) -> None:
    milliseconds = max(1, round(timeout * 1000))
    with connection.begin() as transaction:
        connection.execute(text(f"SET LOCAL lock_timeout = {milliseconds}"))
        connection.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
        tables = connection.execute(
            text(
                "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables "
                "WHERE schemaname = current_schema()"
            )
        ).scalar()
        if tables:
            connection.execute(text(f"LOCK TABLE {tables} IN ROW EXCLUSIVE MODE"))
        transaction.rollback()
