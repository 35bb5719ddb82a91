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

import codecs
import csv
import io
import itertools
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, BinaryIO, cast

import ijson  # type: ignore[import-untyped]

from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.uploads import SPOOL_BYTES
from dieuhanh.indicators.catalog.periods import PeriodError, parse_period
from dieuhanh.indicators.values.save import ValueConflict, ValueRow

CSV_COLUMNS = (
    "dataelement", "period", "orgunit", "catoptcombo", "attroptcombo", "value", "storedby",
    "lastupdated", "comment", "followup",
)  # fmt: skip
CHUNK = 1 << 20
TAIL_BYTES = 1 << 16
# Other spellings of the columns met in DHIS2 exports and hand-made files.
CSV_ALIASES = {
    "data_element": "dataelement", "de": "dataelement", "pe": "period", "org_unit": "orgunit",
    "ou": "orgunit", "categoryoptioncombo": "catoptcombo", "co": "catoptcombo",
    "attributeoptioncombo": "attroptcombo", "timestamp": "lastupdated", "created": "lastupdated",
}  # fmt: skip


@dataclass
class ParsedSet:
    """What a dataValueSet file says, before any code is resolved. ``rows`` is read once, as
    the file is; ``conflicts`` and ``pairs`` fill up as it is."""

    rows: Iterator[ValueRow]
    data_set: str | None = None
    complete_date: str | None = None
    period: str | None = None
    org_unit: str | None = None
    conflicts: list[ValueConflict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The (unit, period) pairs the rows name, for completeDate: a few hundred at most.
    pairs: dict[tuple[str, str], None] = field(default_factory=dict)
    # A temporary file made for the rows (a transcoded UTF-16 file), closed with the set.
    stream: BinaryIO | None = None

    def __enter__(self) -> ParsedSet:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.stream is not None:
            self.stream.close()

    def seen(self, row: ValueRow) -> ValueRow:
        if self.complete_date:
            self.pairs[(row.unit, row.period)] = None
        return row


def decode(data: bytes, filename: str) -> str:
    """UTF-8 (BOM optional) or UTF-16 with BOM; otherwise InvalidInput naming the place."""
    with utf8_stream(data, filename) as stream:
        return stream.read().decode("utf-8-sig")


Input = bytes | BinaryIO


def utf8_stream(data: Input, filename: str) -> BinaryIO:
    """The file as UTF-8 bytes from its start, checked whole before a byte is parsed, in chunks
    (memory does not grow with the file): UTF-8 (BOM kept) as it is, UTF-16 with BOM transcoded
    into a temporary file; anything else InvalidInput naming the place of the first bad byte."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    source.seek(0)
    head = source.read(4096)
    source.seek(0)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _transcoded(source, filename)
    if b"\x00" in head[:4096]:
        raise InvalidInput(
            f"{filename}: looks like UTF-16 text without a byte-order mark. Save the file as "
            "UTF-8 ('CSV UTF-8' in Excel).",
            code="bad_encoding",
        )
    _check_encoding(source, filename, "utf-8")
    source.seek(0)
    return source


def _check_encoding(source: BinaryIO, filename: str, encoding: str) -> None:
    for _ in _decoded(source, filename, encoding):
        pass


def _transcoded(source: BinaryIO, filename: str) -> BinaryIO:
    target = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (lives with the rows)
    try:
        for text in _decoded(source, filename, "utf-16"):
            target.write(text.encode("utf-8"))
    except InvalidInput:
        target.close()
        raise
    target.seek(0)
    return cast(BinaryIO, target)


def _decoded(source: BinaryIO, filename: str, encoding: str) -> Iterator[str]:
    """The file's text chunk by chunk; InvalidInput at the first byte that is not ``encoding``,
    named by its offset in the whole file (a chunk may end inside a character)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    for offset, chunk, final in _chunks(source):
        pending = len(decoder.getstate()[0])
        try:
            yield decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            raise _encoding_error(
                source, filename, offset - pending + exc.start, encoding
            ) from None


def _chunks(source: BinaryIO) -> Iterator[tuple[int, bytes, bool]]:
    """(offset, chunk, last) over the file."""
    offset, chunk = 0, source.read(CHUNK)
    while True:
        following = source.read(CHUNK) if chunk else b""
        yield offset, chunk, not following
        if not following:
            return
        offset += len(chunk)
        chunk = following


def _encoding_error(source: BinaryIO, filename: str, offset: int, encoding: str) -> InvalidInput:
    source.seek(0)
    line = 1
    for start, chunk, _ in _chunks(source):
        if start + len(chunk) > offset:
            line += chunk[: offset - start].count(b"\n")
            source.seek(offset)
            break
        line += chunk.count(b"\n")
    byte = source.read(1)
    return InvalidInput(
        f"{filename}: not valid {encoding.upper()} text: byte 0x{byte[0]:02X} at offset "
        f"{offset} (line {line}). Nothing was imported. Save the file as UTF-8 ('CSV UTF-8' in "
        "Excel) and send it again.",
        code="bad_encoding",
        details=[{"offset": offset, "line": line}],
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


HEADER_KEYS = {"dataSet": "data_set", "completeDate": "complete_date", "period": "period",
               "orgUnit": "org_unit"}  # fmt: skip
_SCALARS = frozenset({"string", "number", "boolean", "null"})


def parse_json(data: Input, filename: str = "dataValueSet.json") -> ParsedSet:
    """The set's header now, its values as they are read (``rows`` is a one-pass iterator):
    memory does not grow with the file. InvalidInput for a file that is not a dataValueSet;
    one found broken further on raises InvalidInput while ``rows`` is read."""
    source = utf8_stream(data, filename)
    if source.read(3) != codecs.BOM_UTF8:
        source.seek(0)
    start = source.tell()
    parsed = ParsedSet(rows=iter(()), stream=None if source is data else source)
    for key, value in _json_header(source, filename).items():
        setattr(parsed, HEADER_KEYS[key], value)
    source.seek(start)
    parsed.rows = _json_rows(source, filename, parsed)
    return parsed


def _json_header(source: BinaryIO, filename: str) -> dict[str, str | None]:
    """The top-level keys other than dataValues: those before it are read up to it (DHIS2 and
    our export write them first); those after it from the text after its closing bracket."""
    header: dict[str, str | None] = {}
    events = ijson.parse(source, use_float=True)
    with _json_errors(filename):
        first = next(events, ("", "end", None))
        if first[1] != "start_map":
            raise _not_a_set(filename)
        for prefix, event, value in events:
            if prefix == "" and event == "map_key" and value == "dataValues":
                if next(events, ("", "end", None))[1] != "start_array":
                    raise _not_a_set(filename)
                header.update(_json_tail(source))
                break
            if prefix in HEADER_KEYS and event in _SCALARS:
                header[prefix] = _text(value)
    return header


def _json_tail(source: BinaryIO) -> dict[str, str | None]:
    """Keys after dataValues, as in ``{"dataValues": [...], "period": "202603"}``: the text
    after the last ``]``, read as an object. A tail that does not read so is one more scan."""
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(max(0, size - TAIL_BYTES))
    tail = source.read().decode("utf-8", "replace").rstrip()
    bracket = tail.rfind("]")
    if bracket < 0:
        return {}  # the array never closes: the rows' parse will say where
    rest = tail[bracket + 1 :].strip()
    if rest in ("}", ""):
        return {}
    try:
        found = json.loads("{" + rest.lstrip(",")) if rest.startswith(",") else None
    except json.JSONDecodeError:
        found = None
    if isinstance(found, dict):
        return {key: _text(value) for key, value in found.items() if key in HEADER_KEYS}
    return {}


def _json_rows(source: BinaryIO, filename: str, parsed: ParsedSet) -> Iterator[ValueRow]:
    # Run once per value: a field that is a string already (nearly all) is taken as it is,
    # without the call to _text.
    text, seen = _text, parsed.seen if parsed.complete_date else None
    with _json_errors(filename):
        for number, item in enumerate(
            ijson.items(source, "dataValues.item", use_float=True), start=1
        ):
            if not isinstance(item, dict):
                parsed.conflicts.append(
                    ValueConflict(
                        number, "dataValues", "", str(item)[:200], "not an object", "invalid_row"
                    )
                )
                continue
            get = item.get
            element, unit, period = get("dataElement"), get("orgUnit"), get("period")
            option, value, comment = get("categoryOptionCombo"), get("value"), get("comment")
            row = ValueRow(
                element=(element if type(element) is str else text(element)) or "",
                unit=(unit if type(unit) is str else text(unit)) or parsed.org_unit or "",
                period=(period if type(period) is str else text(period)) or parsed.period or "",
                option=option if type(option) is str else text(option),
                value=value if type(value) is str else text(value),
                comment=comment if type(comment) is str else text(comment),
                row=number,
            )
            yield row if seen is None else seen(row)


@contextmanager
def _json_errors(filename: str) -> Iterator[None]:
    try:
        yield
    except ijson.JSONError as exc:
        reason = " ".join(str(exc).split())[:300]
        raise InvalidInput(f"{filename}: not valid JSON: {reason}.", code="invalid_json") from None


def _not_a_set(filename: str) -> InvalidInput:
    return InvalidInput(
        f'{filename}: expected {{"dataSet", "period", "orgUnit", "dataValues": [...]}}.',
        code="invalid_data_value_set",
    )


def parse_csv(data: Input, filename: str = "dataValueSet.csv") -> ParsedSet:
    """The CSV's header now, its values as they are read (``rows`` is a one-pass iterator)."""
    source = utf8_stream(data, filename)
    # The wrapper is left unclosed: closing it would close the caller's file.
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    first_line = text.readline()
    delimiter = max((",", ";", "\t"), key=first_line.count)
    lines: Iterator[list[str]] = csv.reader(
        itertools.chain([first_line], text), delimiter=delimiter
    )
    parsed = ParsedSet(rows=iter(()), stream=None if source is data else source)
    columns: tuple[str, ...] = CSV_COLUMNS
    first = next(lines, None)
    start = 1
    if first is not None and _is_header(first):
        columns = tuple(_column(cell) for cell in first)
        start = 2
        missing = [c for c in ("dataelement", "period", "orgunit", "value") if c not in columns]
        if missing:
            raise InvalidInput(
                f"{filename}: the header lacks column(s) {', '.join(missing)}; found "
                f"{', '.join(columns)}.",
                code="missing_columns",
            )
    else:
        parsed.notes.append("no header row: columns read in DHIS2's order " + ",".join(columns))
        if first is not None:
            lines = itertools.chain([first], lines)
    parsed.rows = _csv_rows(lines, columns, start, parsed)
    return parsed


def _csv_rows(
    lines: Iterator[list[str]], columns: tuple[str, ...], start: int, parsed: ParsedSet
) -> Iterator[ValueRow]:
    for number, cells in enumerate(lines, start=start):
        if not any(cell.strip() for cell in cells):
            continue
        values = dict(zip(columns, cells, strict=False))
        shifted = _shifted(values)
        if shifted is not None:
            parsed.conflicts.append(shifted_conflict(number, values, shifted))
            continue
        yield parsed.seen(
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
