"""The array literals the value store sends PostgreSQL (``bulkwrite.array_literal``), read back by
PostgreSQL itself: the joined fast path and the item-by-item one give exactly the values given,
NULLs, quotes, backslashes, braces and commas included. PostgreSQL only: SQLite has no arrays."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, Date, Float, Integer, Text, create_engine, text
from sqlalchemy.types import TypeEngine

from dieuhanh.indicators.values.bulkwrite import array_literal
from tests.conftest import BackendPool

CASES: list[tuple[TypeEngine[Any], str, list[Any]]] = [
    (Integer(), "integer", [1, 22, 333]),
    (Integer(), "integer", [1, None, 3]),
    (Float(), "double precision", [0.1, 2.0, -3.5e-7, 1e300]),
    (Float(), "double precision", [None, 4.25]),
    (Date(), "date", [date(2026, 3, 1), date(1999, 12, 31)]),
    (Date(), "date", [date(2026, 3, 1), None]),
    (Text(), "text", ["202603", "", "O1", "a b", "{x}", "a,b", "NULL", "Hồ sơ"]),
    (Text(), "text", ['say "hi"', "back\\slash", "x"]),
    (Text(), "text", [None, "NULL", '"', "\\"]),
    (Text(), "text", []),
]


@pytest.fixture
def connection(backend_pool: BackendPool) -> Iterator[Connection]:
    backend = backend_pool.get("postgresql")
    url = backend.copy_template()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()
        backend.drop(url)


def test_array_literals_read_back_as_given(connection: Connection) -> None:
    for kind, sql_type, values in CASES:
        literal = array_literal(kind, values)
        found = connection.execute(text(f"SELECT CAST(:a AS {sql_type}[])"), {"a": literal})
        assert found.scalar_one() == values, (literal, values)
