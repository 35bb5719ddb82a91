"""Revision 0005 types the shipped counts of an existing installation ``integer_zero_or_positive``
(issue #10, finding 9), and leaves an element of the province's own alone."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from dieuhanh.core.db import migrate


def test_existing_counts_become_zero_or_positive(empty_database_url, make_runtime) -> None:
    runtime = make_runtime(empty_database_url)
    migrate.upgrade(runtime.engine, "0004")
    now = datetime(2026, 4, 1, tzinfo=UTC)
    with runtime.engine.begin() as connection:
        for code in ("DOSSIERS_RECEIVED", "VISITORS"):
            connection.execute(
                text(
                    "INSERT INTO data_elements (code, name, value_type, aggregation_type, "
                    "zero_is_significant, created_at, updated_at) "
                    "VALUES (:code, :code, 'integer', 'sum', true, :now, :now)"
                ),
                {"code": code, "now": now},
            )
    migrate.upgrade(runtime.engine)
    with runtime.engine.connect() as connection:
        types = dict(connection.execute(text("SELECT code, value_type FROM data_elements")).all())
    assert types == {"DOSSIERS_RECEIVED": "integer_zero_or_positive", "VISITORS": "integer"}
