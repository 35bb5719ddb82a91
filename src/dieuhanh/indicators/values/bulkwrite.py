"""The fastest way each database takes thousands of rows, for the value store.

SQLAlchemy's executemany sends one statement per row to PostgreSQL (psycopg's pipeline) and
processes every parameter of every row in Python; an import of millions of values spends most of
its time there. So PostgreSQL gets one statement per batch: inserts as COPY, updates as
``UPDATE … FROM unnest(…)`` over one array literal per column. The COPY text is built a column
at a time (``map(str, …)``, one ``str.join`` per row; a text column is escaped only when its
values hold a tab, a newline or a backslash, which one scan of the joined column tells): 0.4 µs
of Python per row of the value history against 3.6 µs through psycopg's ``write_row``, and COPY
costs the server less than ``INSERT … SELECT`` (bench/indicators.py). That Python time is what
an import spends while the database waits. SQLite, in process, gets the driver's own executemany
with the few typed columns (dates, timestamps) converted once per distinct value by SQLAlchemy's
own processors, so what is stored is exactly what the ORM would store.

Rows are tuples in the order of the named columns; what is the same on every row of a batch
(who, when, from where) is given once as ``constants``. Each function does all its Python work
when called and returns a :data:`Write` that only runs the statement: an import prepares the
next writes while the database runs the last ones (:mod:`.overlap`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Dialect,
    Float,
    Integer,
    String,
    Table,
    TypeDecorator,
    bindparam,
    text,
)
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import TypeEngine

# A prepared write: give it the connection and it runs its statement, nothing else.
Write = Callable[[Connection], None]


def insert_rows(
    dialect: Dialect,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    constants: dict[str, Any],
) -> Write:
    """The insert of ``rows`` (one value per column of ``columns``), each with ``constants``."""
    if not rows:
        return no_write
    if dialect.name == "postgresql":
        return _copy(dialect, table, columns, rows, constants)
    return _executemany(dialect, table, columns, rows, constants)


def no_write(connection: Connection) -> None:
    return None


def _run(statement: TextClause, params: dict[str, Any]) -> Write:
    def run(connection: Connection) -> None:
        connection.execute(statement, params)

    return run


def _quoted(dialect: Dialect, names: Sequence[str]) -> str:
    quote = dialect.identifier_preparer.quote
    return ", ".join(quote(name) for name in names)


def _copy(
    dialect: Dialect,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    constants: dict[str, Any],
) -> Write:
    texts = [
        _copy_column(table.c[name].type, values)
        for name, values in zip(columns, zip(*rows, strict=True), strict=True)
    ]
    fixed = [_copy_column(table.c[name].type, [_bound(table, name, dialect, value)])[0]
             for name, value in constants.items()]  # fmt: skip
    # Every line ends with the constants: they join the lines.
    end = "".join("\t" + item for item in fixed) + "\n"
    data = (end.join(map("\t".join, zip(*texts, strict=True))) + end).encode()
    statement = f"COPY {table.name} ({_quoted(dialect, [*columns, *constants])}) FROM STDIN"

    def run(connection: Connection) -> None:
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            copy.write(data)

    return run


def _bound(table: Table, name: str, dialect: Dialect, value: Any) -> Any:
    """A constant as its column's type would bind it (a timestamp made UTC)."""
    kind = table.c[name].type
    return kind.process_bind_param(value, dialect) if isinstance(kind, TypeDecorator) else value


_NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_column(kind: TypeEngine[Any], values: Sequence[Any]) -> list[str]:
    """One column in COPY's text format."""
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, String):  # Text is a String
        present = "".join([value for value in values if value is not None])
        if present.isprintable() and "\\" not in present:  # nothing to escape: most columns
            return [_NULL if value is None else value for value in values]
        return [_NULL if value is None else value.translate(_ESCAPES) for value in values]
    if isinstance(kind, Integer):
        return [_NULL if value is None else str(value) for value in values]
    if isinstance(kind, Float):
        return [_NULL if value is None else repr(float(value)) for value in values]
    if isinstance(kind, DateTime):
        return [_NULL if value is None else value.isoformat() for value in values]
    if isinstance(kind, Date):
        days: dict[date, str] = {}
        return [_NULL if v is None else days.get(v) or days.setdefault(v, v.isoformat())
                for v in values]  # fmt: skip
    raise TypeError(f"no COPY text for a column of type {kind!r}")


def array_literal(kind: TypeEngine[Any], values: Sequence[Any]) -> str:
    """A PostgreSQL array literal of ``values`` for a column of type ``kind``: psycopg adapts a
    Python list item by item (0.4 s per 100,000 keys of 4 columns); this one string is parsed by
    the server."""
    item = _item_text(kind)
    if values and None not in values:  # the usual column: no NULL, joined in one call
        if item is _text:
            joined = '","'.join(values)
            # Nothing to escape (codes): no backslash, and no quote but the separators'.
            if "\\" not in joined and joined.count('"') == 2 * len(values) - 2:
                return '{"' + joined + '"}'
        else:
            return "{" + ",".join(map(_PLAIN[item], values)) + "}"
    return "{" + ",".join([item(value) for value in values]) + "}"


def _item_text(kind: TypeEngine[Any]) -> Callable[[Any], str]:
    if isinstance(kind, Integer):
        return _number
    if isinstance(kind, Float):
        return _float
    if isinstance(kind, Date):
        return _day
    if isinstance(kind, String):  # Text is a String
        return _text
    raise TypeError(f"no array literal for a column of type {kind!r}")


def _number(value: int | None) -> str:
    return "NULL" if value is None else str(int(value))


def _float(value: float | None) -> str:
    return "NULL" if value is None else repr(float(value))


def _day(value: date | None) -> str:
    return "NULL" if value is None else value.isoformat()


def _text(value: str | None) -> str:
    if value is None:
        return "NULL"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Each item function's spelling of a value known not to be NULL, as a C function where one is.
_PLAIN: dict[Callable[[Any], str], Callable[[Any], str]] = {
    _number: str,
    _float: repr,
    _day: date.isoformat,
}


def _executemany(
    dialect: Dialect,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    constants: dict[str, Any],
) -> Write:
    names = [*columns, *constants]
    convert = _converters(dialect, table, names)
    row_converters = [convert[c] for c in columns]
    fixed = tuple(convert[name](value) for name, value in constants.items())
    markers = ", ".join("?" for _ in names)
    statement = f"INSERT INTO {table.name} ({_quoted(dialect, names)}) VALUES ({markers})"
    params = [(*(f(v) for f, v in zip(row_converters, row, strict=True)), *fixed) for row in rows]
    return _run_driver(statement, params)


def _run_driver(statement: str, params: list[tuple[Any, ...]]) -> Write:
    def run(connection: Connection) -> None:
        connection.exec_driver_sql(statement, params)

    return run


def _converters(
    dialect: Dialect, table: Table, columns: Sequence[str]
) -> dict[str, Callable[[Any], Any]]:
    """Per column: SQLAlchemy's bind processor, remembered per value (an import repeats a few
    dates and one timestamp millions of times); the identity where there is none."""
    result: dict[str, Callable[[Any], Any]] = {}
    for column in columns:
        # The dialect's own type (sqlite.DATETIME), as a compiled statement would use: the
        # generic type's processor stores another spelling ("…+00:00") SQLite compares as text.
        kind = table.c[column].type.dialect_impl(dialect)
        processor = kind.bind_processor(dialect)
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
    dialect: Dialect, table: Table, rows: list[tuple[int, str, float | None, str | None]],
    constants: dict[str, Any],
) -> Write:  # fmt: skip
    """The update of value, numeric and comment of each row (id, value, numeric, comment), with
    the same ``constants`` (source, stored_by, updated_at, …) on all of them."""
    if not rows:
        return no_write
    names = list(constants)
    quote = dialect.identifier_preparer.quote
    if dialect.name == "postgresql":
        columns = ("id", "value", "numeric", "comment")
        kinds = [table.c[column].type for column in columns]
        arrays = {f"c{n}": array_literal(kinds[n], values)
                  for n, values in enumerate(zip(*rows, strict=True))}  # fmt: skip
        casts = ", ".join(f"CAST(:c{n} AS {kind.compile(dialect=dialect)}[])"
                          for n, kind in enumerate(kinds))  # fmt: skip
        sets = ", ".join(f"{quote(n)} = :{n}" for n in names)
        statement = text(
            f"UPDATE {table.name} AS d SET value = k.c1, numeric = k.c2, comment = k.c3, {sets} "
            f"FROM unnest({casts}) AS k(c0, c1, c2, c3) WHERE d.id = k.c0"
        ).bindparams(*[bindparam(name, type_=table.c[name].type) for name in names])
        return _run(statement, arrays | constants)
    convert = _converters(dialect, table, names)
    fixed = tuple(convert[n](constants[n]) for n in names)
    sets = ", ".join(f"{quote(n)} = ?" for n in names)
    return _run_driver(
        f"UPDATE {table.name} SET value = ?, numeric = ?, comment = ?, {sets} WHERE id = ?",
        [(value, number, comment, *fixed, row_id) for row_id, value, number, comment in rows],
    )
