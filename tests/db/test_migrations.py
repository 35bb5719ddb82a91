"""The migrations build exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from dieuhanh.capabilities import metadata
from dieuhanh.core.db import migrate


def test_migrations_match_the_models(empty_database_url, make_runtime) -> None:
    runtime = make_runtime(empty_database_url)
    assert migrate.current_revision(runtime.engine) is None
    migrate.upgrade(runtime.engine)
    assert migrate.is_current(runtime.engine)
    with runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata()) == []


def test_upgrade_twice_is_harmless(empty_database_url, make_runtime) -> None:
    runtime = make_runtime(empty_database_url)
    migrate.upgrade(runtime.engine)
    migrate.upgrade(runtime.engine)
    assert migrate.is_current(runtime.engine)


def test_engine_settings(runtime) -> None:
    with runtime.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        else:
            assert connection.dialect.name == "postgresql"
            assert connection.dialect.driver == "psycopg"
            assert connection.execute(text("SHOW server_encoding")).scalar() == "UTF8"
