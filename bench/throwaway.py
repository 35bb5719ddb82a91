"""A throw-away database for a benchmark: a file in the run's folder for SQLite, a database
dropped and created again on the local PostgreSQL (``DIEUHANH_BENCH_POSTGRES_URL``)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, text

ADMIN_URL = os.environ.get(
    "DIEUHANH_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def database_url(backend: str, folder: Path, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
