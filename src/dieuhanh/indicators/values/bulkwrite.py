"""The fastest way each database takes thousands of rows, for the value store.

SQLAlchemy's executemany sends one statement per row to PostgreSQL (psycopg's pipeline) and
processes every parameter of every row in Python; an import of millions of values spends most of
its time there. So: PostgreSQL gets COPY for inserts and one ``UPDATE … FROM unnest(arrays)`` per
batch for updates; SQLite, in process, gets the driver's own executemany with the few typed
columns (dates, timestamps) converted once per distinct value by SQLAlchemy's own processors, so
what is stored is exactly what the ORM would store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Table, text


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) in the connection's transaction."""
    if not rows:
        return
    columns = list(rows[0])
    if connection.dialect.name == "postgresql":
        _copy(connection, table, columns, rows)
    else:
        _executemany(connection, table, columns, rows)


def _quoted(connection: Connection, names: list[str]) -> str:
    quote = connection.dialect.identifier_preparer.quote
    return ", ".join(quote(name) for name in names)


def _copy(
    connection: Connection, table: Table, columns: list[str], rows: list[dict[str, Any]]
) -> None:
    driver = connection.connection.driver_connection
    statement = f"COPY {table.name} ({_quoted(connection, columns)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row([row[column] for column in columns])


def _executemany(
    connection: Connection, table: Table, columns: list[str], rows: list[dict[str, Any]]
) -> None:
    convert = _converters(connection, table, columns)
    markers = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {table.name} ({_quoted(connection, columns)}) VALUES ({markers})"
    connection.exec_driver_sql(
        statement, [tuple(convert[c](row[c]) for c in columns) for row in rows]
    )


def _converters(
    connection: Connection, table: Table, columns: list[str]
) -> dict[str, Callable[[Any], Any]]:
    """Per column: SQLAlchemy's bind processor, remembered per value (an import repeats a few
    dates and one timestamp millions of times); the identity where there is none."""
    result: dict[str, Callable[[Any], Any]] = {}
    for column in columns:
        # The dialect's own type (sqlite.DATETIME), as a compiled statement would use: the
        # generic type's processor stores another spelling ("…+00:00") SQLite compares as text.
        kind = table.c[column].type.dialect_impl(connection.dialect)
        processor = kind.bind_processor(connection.dialect)
        result[column] = _memoized(processor) if processor else _same
    return result


def _same(value: Any) -> Any:
    return value


def _memoized(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value is None:
            return None
        found = seen.get(value)
        if found is None:
            found = seen[value] = processor(value)
        return found

    return convert


def update_values(
    connection: Connection, table: Table, rows: list[tuple[int, str, float | None, str | None]],
    constants: dict[str, Any],
) -> None:  # fmt: skip
    """Set value, numeric and comment of each row (id, value, numeric, comment), and the same
    ``constants`` (source, stored_by, updated_at, …) on all of them."""
    if not rows:
        return
    names = list(constants)
    if connection.dialect.name == "postgresql":
        ids, values, numbers, comments = (list(column) for column in zip(*rows, strict=True))
        sets = ", ".join(f"{connection.dialect.identifier_preparer.quote(n)} = :{n}" for n in names)
        connection.execute(
            text(
                f"UPDATE {table.name} AS d SET value = u.value, numeric = u.numeric, "
                f"comment = u.comment, {sets} FROM unnest(CAST(:ids AS bigint[]), "
                "CAST(:values AS text[]), CAST(:numbers AS float8[]), CAST(:comments AS text[])) "
                "AS u(id, value, numeric, comment) WHERE d.id = u.id"
            ),
            {"ids": ids, "values": values, "numbers": numbers, "comments": comments, **constants},
        )
        return
    convert = _converters(connection, table, names)
    fixed = tuple(convert[n](constants[n]) for n in names)
    sets = ", ".join(f"{connection.dialect.identifier_preparer.quote(n)} = ?" for n in names)
    connection.exec_driver_sql(
        f"UPDATE {table.name} SET value = ?, numeric = ?, comment = ?, {sets} WHERE id = ?",
        [(value, number, comment, *fixed, row_id) for row_id, value, number, comment in rows],
    )
