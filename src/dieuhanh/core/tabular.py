"""Reading the tables people send: CSV saved from Excel, or JSON, with errors naming the place.

Every importer (unit lists now; camera surveys and data values later) reads through here, so a
file that is not UTF-8, has a shifted column or a missing header is reported the same way.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import openpyxl

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
    if data[:4] == b"PK\x03\x04":
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


def read_workbook(data: bytes, filename: str, aliases: Columns, required: tuple[str, ...]) -> Table:
    """The first sheet of an .xlsx. Forms often have a title above the table: the header is the
    first of the top rows naming most of the required columns."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidInput(
            f"{filename}: not a readable Excel workbook ({exc}).", code="bad_workbook"
        ) from None
    sheet = workbook.worksheets[0]
    rows = [
        (number, ["" if cell is None else str(cell).strip() for cell in values])
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
    ]
    workbook.close()
    header_index = 0
    for index, (_, cells) in enumerate(rows[:15]):
        named = {canonical_column(cell, aliases) for cell in cells if cell}
        if not required or len(named & set(required)) >= max(1, len(required) // 2):
            header_index = index
            break
    if not rows:
        raise InvalidInput(f"{filename}: the first sheet is empty.", code="empty_file")
    columns = [canonical_column(cell, aliases) if cell else "" for cell in rows[header_index][1]]
    table_rows = []
    for number, cells in rows[header_index + 1 :]:
        if not any(cells):
            continue
        values = {col: _cell(cell) for col, cell in zip(columns, cells, strict=False) if col}
        table_rows.append(Row(number=number, values=values))
    return Table(columns=[c for c in columns if c], rows=table_rows)


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
