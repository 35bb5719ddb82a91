"""Engines for the two supported databases: embedded SQLite (WAL) and PostgreSQL."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


@dataclass(frozen=True)
class Timeouts:
    """Short waits, so that a busy database answers 503 in seconds rather than 500 after 30
    (issue #10). ``statement`` 0: no limit."""

    lock: float = 5.0
    statement: float = 120.0
    pool: float = 5.0


def normalize_url(url: str) -> str:
    """Plain ``postgresql://`` means psycopg 3 here: it is the driver DieuHanh installs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, timeouts: Timeouts | None = None, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    timeouts = timeouts or Timeouts()
    if url.startswith("sqlite"):
        if make_url(url).database not in (None, "", ":memory:"):
            kwargs.setdefault("pool_timeout", timeouts.pool)  # a file: a pool of connections
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": timeouts.lock}, **kwargs
        )
        event.listen(engine, "connect", partial(_sqlite_pragmas, timeouts.lock))
        return engine
    options = f"-c lock_timeout={_ms(timeouts.lock)} -c statement_timeout={_ms(timeouts.statement)}"
    settings: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_size": 10,
        "max_overflow": 20,
        "pool_timeout": timeouts.pool,
        # libpq counts whole seconds, at least 2: a server that is down fails in seconds too.
        "connect_args": {"options": options, "connect_timeout": max(2, math.ceil(timeouts.pool))},
    }
    return create_engine(url, **(settings | kwargs))


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _sqlite_pragmas(lock_timeout: float, dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web UI read while an import writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_ms(lock_timeout)}")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
