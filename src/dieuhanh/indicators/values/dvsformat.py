"""DHIS2 dataValueSets files: reading and writing values as JSON and CSV, codes as identifiers.

So that the tools and spreadsheets that feed DHIS2 today can feed DieuHanh: the JSON shape
``{dataSet, completeDate, period, orgUnit, dataValues: [...]}`` and the CSV columns
``dataelement,period,orgunit,catoptcombo,attroptcombo,value,storedby,lastupdated,comment,followup``
(header optional). ``categoryOptionCombo``/``catoptcombo`` carries our disaggregation option
code; empty or ``default`` means none. ``storedBy`` and ``lastUpdated`` of imported rows are
ignored: the account that imports is who stored the values, now.

Files are read as UTF-8 (with or without BOM) or UTF-16 with BOM (Excel's "Unicode text", tab
separated); anything else is refused whole, with the place of the first bad byte, before a single
value is stored.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from dieuhanh.core.errors import InvalidInput
from dieuhanh.indicators.catalog.periods import PeriodError, parse_period
from dieuhanh.indicators.values.save import ValueConflict, ValueRow

CSV_COLUMNS = (
    "dataelement", "period", "orgunit", "catoptcombo", "attroptcombo", "value", "storedby",
    "lastupdated", "comment", "followup",
)  # fmt: skip
# Other spellings of the columns met in DHIS2 exports and hand-made files.
CSV_ALIASES = {
    "data_element": "dataelement", "de": "dataelement", "pe": "period", "org_unit": "orgunit",
    "ou": "orgunit", "categoryoptioncombo": "catoptcombo", "co": "catoptcombo",
    "attributeoptioncombo": "attroptcombo", "timestamp": "lastupdated", "created": "lastupdated",
}  # fmt: skip


@dataclass
class ParsedSet:
    """What a dataValueSet file says, before any code is resolved."""

    rows: list[ValueRow]
    data_set: str | None = None
    complete_date: str | None = None
    period: str | None = None
    org_unit: str | None = None
    conflicts: list[ValueConflict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def decode(data: bytes, filename: str) -> str:
    """UTF-8 (BOM optional) or UTF-16 with BOM; otherwise InvalidInput naming the place."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _encoding_error(data, filename, exc.start, "UTF-16") from None
    if b"\x00" in data[:4096]:
        raise InvalidInput(
            f"{filename}: looks like UTF-16 text without a byte-order mark. Save the file as "
            "UTF-8 ('CSV UTF-8' in Excel).",
            code="bad_encoding",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _encoding_error(data, filename, exc.start, "UTF-8") from None


def _encoding_error(data: bytes, filename: str, offset: int, encoding: str) -> InvalidInput:
    line = data[:offset].count(b"\n") + 1
    return InvalidInput(
        f"{filename}: not valid {encoding} text: byte 0x{data[offset]:02X} at offset {offset} "
        f"(line {line}). Nothing was imported. Save the file as UTF-8 ('CSV UTF-8' in Excel) "
        "and send it again.",
        code="bad_encoding",
        details=[{"offset": offset, "line": line}],
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_json(data: bytes, filename: str = "dataValueSet.json") -> ParsedSet:
    try:
        document = json.loads(decode(data, filename))
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{filename}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).",
            code="invalid_json",
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("dataValues", []), list):
        raise InvalidInput(
            f'{filename}: expected {{"dataSet", "period", "orgUnit", "dataValues": [...]}}.',
            code="invalid_data_value_set",
        )
    parsed = ParsedSet(
        rows=[],
        data_set=_text(document.get("dataSet")),
        complete_date=_text(document.get("completeDate")),
        period=_text(document.get("period")),
        org_unit=_text(document.get("orgUnit")),
    )
    for number, item in enumerate(document.get("dataValues", []), start=1):
        if not isinstance(item, dict):
            parsed.conflicts.append(
                ValueConflict(
                    number, "dataValues", "", str(item)[:200], "not an object", "invalid_row"
                )
            )
            continue
        parsed.rows.append(
            ValueRow(
                element=_text(item.get("dataElement")) or "",
                unit=_text(item.get("orgUnit")) or parsed.org_unit or "",
                period=_text(item.get("period")) or parsed.period or "",
                option=_text(item.get("categoryOptionCombo")),
                value=_text(item.get("value")),
                comment=_text(item.get("comment")),
                row=number,
            )
        )
    return parsed


def parse_csv(data: bytes, filename: str = "dataValueSet.csv") -> ParsedSet:
    text = decode(data, filename)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    parsed = ParsedSet(rows=[])
    columns: tuple[str, ...] = CSV_COLUMNS
    start = 0
    if lines and _is_header(lines[0]):
        columns = tuple(_column(cell) for cell in lines[0])
        start = 1
        missing = [c for c in ("dataelement", "period", "orgunit", "value") if c not in columns]
        if missing:
            raise InvalidInput(
                f"{filename}: the header lacks column(s) {', '.join(missing)}; found "
                f"{', '.join(columns)}.",
                code="missing_columns",
            )
    else:
        parsed.notes.append("no header row: columns read in DHIS2's order " + ",".join(columns))
    for number, cells in enumerate(lines[start:], start=start + 1):
        if not any(cell.strip() for cell in cells):
            continue
        values = dict(zip(columns, cells, strict=False))
        shifted = _shifted(values)
        if shifted is not None:
            parsed.conflicts.append(shifted_conflict(number, values, shifted))
            continue
        parsed.rows.append(
            ValueRow(
                element=values.get("dataelement", "").strip(),
                unit=values.get("orgunit", "").strip(),
                period=values.get("period", "").strip(),
                option=values.get("catoptcombo", "").strip() or None,
                value=values.get("value", ""),
                comment=values.get("comment") or None,
                row=number,
            )
        )
    return parsed


def _column(cell: str) -> str:
    key = cell.strip().lower().replace(" ", "_")
    return CSV_ALIASES.get(key, key)


def _is_header(cells: list[str]) -> bool:
    named = {_column(cell) for cell in cells}
    return len(named & set(CSV_COLUMNS)) >= 3


def _is_period(text: str) -> bool:
    try:
        parse_period(text)
    except PeriodError:
        return False
    return True


def _shifted(values: dict[str, str]) -> str | None:
    """The column holding the period, when the 'period' column does not (None: not shifted or
    no period anywhere, left to the normal period check)."""
    if _is_period(values.get("period", "")):
        return None
    for column, cell in values.items():
        if column != "period" and cell.strip() and _is_period(cell.strip()):
            return column
    return None


def shifted_conflict(number: int, values: dict[str, str], holder: str) -> ValueConflict:
    held = values.get("period", "").strip()
    return ValueConflict(
        row=number,
        object=values.get("dataelement", "").strip(),
        property="period",
        value=held,
        message=f"column 'period' holds '{held}', expected a period such as 202603; the period "
        f"is in column '{holder}': the columns seem shifted (a missing or extra cell before "
        "them?)",
        error_code="shifted_columns",
    )


def complete_moment(text: str | None) -> datetime | None:
    """DHIS2's completeDate: a date (end of that day is not assumed: its start, UTC) or an
    ISO date-time; a value without zone is UTC."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text.strip()), time(0))
        except ValueError:
            raise InvalidInput(
                f"completeDate '{text}' is not a date such as 2026-04-02.", code="invalid_date"
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ExportRow:
    element: str
    period: str
    unit: str
    option: str
    value: str
    comment: str | None
    stored_by: str
    created: datetime
    last_updated: datetime


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def export_row_json(row: ExportRow) -> dict[str, Any]:
    item: dict[str, Any] = {
        "dataElement": row.element,
        "period": row.period,
        "orgUnit": row.unit,
        "categoryOptionCombo": row.option or "default",
        "value": row.value,
        "storedBy": row.stored_by,
        "created": _iso(row.created),
        "lastUpdated": _iso(row.last_updated),
        "followup": False,
    }
    if row.comment is not None:
        item["comment"] = row.comment
    return item


def json_chunks(rows: Iterator[ExportRow], data_set: str | None) -> Iterator[str]:
    """The export as JSON text in pieces, so a large export is streamed, not built in memory."""
    head = {"dataSet": data_set} if data_set else {}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ("," if head else "") + '"dataValues":['
    first = True
    for row in rows:
        yield ("" if first else ",") + json.dumps(export_row_json(row), ensure_ascii=False)
        first = False
    yield "]}"


def csv_chunks(rows: Iterator[ExportRow]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for count, row in enumerate(rows, start=1):
        writer.writerow(
            [
                row.element, row.period, row.unit, row.option or "default", "", row.value,
                row.stored_by, _iso(row.last_updated), row.comment or "", "false",
            ]
        )  # fmt: skip
        if count % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
