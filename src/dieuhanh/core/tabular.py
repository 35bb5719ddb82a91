"""Reading the tables people send: CSV saved from Excel, or JSON, with errors naming the place.

Every importer (unit lists now; camera surveys and data values later) reads through here, so a
file that is not UTF-8, has a shifted column or a missing header is reported the same way.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dieuhanh.core import xlsx
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.text import fold


@dataclass(frozen=True)
class Row:
    number: int  # 1-based line (CSV) or item (JSON) number, as a person would count it
    values: dict[str, str]


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[Row]


Columns = Mapping[str, str] | Callable[[str], str]


def read_table(
    data: bytes,
    filename: str,
    *,
    aliases: Columns | None = None,
    required: tuple[str, ...] = (),
) -> Table:
    """Parse CSV, JSON or an Excel workbook (by content) into rows keyed by canonical column.

    ``aliases`` maps a folded header (``fold`` with underscores) to its canonical name, or is a
    function doing so (for forms whose headers are long sentences).
    """
    columns = aliases or {}
    if xlsx.is_workbook(data, filename):
        table = read_workbook(data, filename, columns, required)
    else:
        text = decode_utf8(data, filename)
        stripped = text.lstrip()
        if filename.lower().endswith(".json") or stripped.startswith(("[", "{")):
            table = _read_json(text, filename, columns)
        else:
            table = _read_csv(text, filename, columns)
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise InvalidInput(
            f"{filename}: missing column(s) {', '.join(missing)}; found "
            f"{', '.join(table.columns) or 'none'}.",
            code="missing_columns",
        )
    return table


def decode_utf8(data: bytes, filename: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            f"{filename}: not UTF-8 text (byte 0x{data[exc.start]:02X} on line {line}). "
            "Save it as 'CSV UTF-8' (Excel) or UTF-8 (other tools).",
            code="bad_encoding",
        ) from None


def canonical_column(name: str, aliases: Columns) -> str:
    key = fold(name).replace(" ", "_")
    if callable(aliases):
        return aliases(key)
    return aliases.get(key, key)


HEADER_SEARCH_ROWS = 15


def read_workbook(data: bytes, filename: str, aliases: Columns, required: tuple[str, ...]) -> Table:
    """The first sheet of an .xlsx, within :mod:`dieuhanh.core.xlsx`'s limits, whole."""
    sheet = stream_workbook(data, filename, aliases, required)
    return Table(columns=sheet.columns, rows=list(sheet.rows))


@dataclass(frozen=True)
class SheetStream:
    columns: list[str]
    header_row: int  # the header's row number: the rows above it are a title
    rows: Generator[Row, None, None]  # the rows below the header, read as they are taken


def stream_workbook(
    data: bytes,
    filename: str,
    aliases: Columns,
    required: tuple[str, ...],
    limits: xlsx.Limits = xlsx.DEFAULT_LIMITS,
) -> SheetStream:
    """The first sheet's columns, checked now, and its rows as they are read (memory does not
    grow with the sheet). Forms often have a title above the table: the header is the first of
    the top rows naming most of the required columns. A row found wrong further on (too wide,
    past the row limit) raises InvalidInput while the rows are read."""
    rows = xlsx.read_rows(data, filename, limits)
    try:
        header_number, columns = _workbook_header(rows, filename, aliases, required)
        missing = [column for column in required if column not in columns]
        if missing:
            raise InvalidInput(
                f"{filename}: missing column(s) {', '.join(missing)} in the header (row "
                f"{header_number}); found {', '.join(c for c in columns if c) or 'none'}.",
                code="missing_columns",
            )
    except BaseException:
        rows.close()
        raise
    return SheetStream([c for c in columns if c], header_number, _workbook_rows(rows, columns))


def _workbook_rows(
    rows: Generator[tuple[int, list[str]], None, None], columns: list[str]
) -> Generator[Row, None, None]:
    try:
        for number, cells in rows:
            if not any(cells):
                continue
            values = {col: _cell(cell) for col, cell in zip(columns, cells, strict=False) if col}
            yield Row(number=number, values=values)
    finally:
        rows.close()


def _workbook_header(
    rows: Iterator[tuple[int, list[str]]],
    filename: str,
    aliases: Columns,
    required: tuple[str, ...],
) -> tuple[int, list[str]]:
    """The header row's number and canonical columns; rows above it (a title) are dropped.
    Reads at most HEADER_SEARCH_ROWS rows; without a match the first row is the header."""
    first: tuple[int, list[str]] | None = None
    for number, cells in rows:
        columns = [canonical_column(cell, aliases) if cell else "" for cell in cells]
        first = first or (number, columns)
        named = {c for c in columns if c}
        if not required or len(named & set(required)) >= max(1, len(required) // 2):
            return number, columns
        if number >= HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise InvalidInput(f"{filename}: the first sheet is empty.", code="empty_file")
    return first


def _cell(value: str) -> str:
    # Excel stores whole numbers typed in a cell as floats: "3.0" was typed "3".
    return value[:-2] if value.endswith(".0") and value[:-2].lstrip("-").isdigit() else value


def _read_csv(text: str, filename: str, aliases: Columns) -> Table:
    first_line = text.split("\n", 1)[0]
    # Excel in a Vietnamese locale may write ';' between columns.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(f"{filename}: the file is empty.", code="empty_file") from None
    columns = [canonical_column(name, aliases) for name in header]
    duplicates = sorted({c for c in columns if c and columns.count(c) > 1})
    if duplicates:
        raise InvalidInput(
            f"{filename}: column(s) {', '.join(duplicates)} appear more than once in the header.",
            code="duplicate_columns",
        )
    rows = []
    for cells in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns) :]):
            raise InvalidInput(
                f"{filename}: line {number} has {len(cells)} cells but the header has "
                f"{len(columns)} columns; is a column shifted or a comma unquoted?",
                code="shifted_columns",
            )
        values = {col: cell.strip() for col, cell in zip(columns, cells, strict=False) if col}
        rows.append(Row(number=number, values=values))
    return Table(columns=[c for c in columns if c], rows=rows)


def _read_json(text: str, filename: str, aliases: Columns) -> Table:
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{filename}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            code="malformed_json",
        ) from None
    if isinstance(document, dict):
        lists = [value for value in document.values() if isinstance(value, list)]
        document = lists[0] if len(lists) == 1 else None
    if not isinstance(document, list):
        raise InvalidInput(
            f"{filename}: expected a JSON list of objects (or an object holding one list).",
            code="unexpected_json",
        )
    columns: list[str] = []
    rows = []
    for number, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            raise InvalidInput(
                f"{filename}: item {number} is not an object.", code="unexpected_json"
            )
        values = {}
        for key, value in item.items():
            column = canonical_column(str(key), aliases)
            if column not in columns:
                columns.append(column)
            values[column] = "" if value is None else str(value).strip()
        rows.append(Row(number=number, values=values))
    return Table(columns=columns, rows=rows)
