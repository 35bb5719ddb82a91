"""The upload connector: an Excel or CSV file sent by a person, read against the source's
template.

    kind: upload
    config:
      columns:
        - {key: ma_don_vi, header: "Mã đơn vị", required: true}
        - {key: thang, header: "Tháng", required: true, aliases: ["Kỳ báo cáo"]}
        - {key: so_ho_so, header: "Số hồ sơ tiếp nhận"}
      mapping:
        rows: {to: values, element: DOSSIERS_RECEIVED, unit_field: ma_don_vi, ...}

Headers match whatever their accents, case and spacing (``MÃ ĐƠN VỊ``, ``ma don vi``); the
header row may sit under a title. The file is read by content, not by name (a CSV named .xlsx
is read as CSV), through the kernel's bounded readers. Every row keeps its number in the file,
so rejections say "row 12, column Mã đơn vị". The file is kept whole as the run's payload.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dieuhanh.core import xlsx
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.tabular import HEADER_SEARCH_ROWS, Row, read_table, stream_workbook
from dieuhanh.core.text import fold
from dieuhanh.datahub.connectors import FetchContext, Page, SourceFailure, Upload
from dieuhanh.datahub.mapping import parse_mappings
from dieuhanh.datahub.spec import CODE, describe_errors

RESOURCE = "rows"
ROWS_PER_PAGE = 1000
CONTENT_TYPES = {
    True: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    False: "text/csv",
}


class Column(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=CODE.pattern)
    header: str = Field(min_length=1, max_length=200)
    required: bool = False
    aliases: list[str] = Field(default_factory=list)


class UploadConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[Column] = Field(min_length=1)
    mapping: dict[str, Any] = Field(default_factory=dict)
    max_rows: int = Field(default=200_000, ge=1, le=2_000_000)

    def aliases(self) -> dict[str, str]:
        """Folded header (and key, and aliases) → key: what the kernel's reader matches."""
        table: dict[str, str] = {}
        for column in self.columns:
            for name in (column.header, column.key, *column.aliases):
                table[fold(name).replace(" ", "_")] = column.key
        return table

    def labels(self) -> dict[str, str]:
        return {column.key: column.header for column in self.columns}


class UploadConnector:
    kind = "upload"

    def check(self, config: dict[str, Any], where: str) -> None:
        try:
            parsed = UploadConfig.model_validate(config)
        except ValidationError as exc:
            raise InvalidInput(describe_errors(exc, where + "."), code="invalid_source") from None
        keys = [column.key for column in parsed.columns]
        for key in keys:
            if keys.count(key) > 1:
                raise InvalidInput(
                    f"{where}.columns: {key!r} is declared twice", code="invalid_source"
                )
        parse_mappings(parsed.mapping, self.resources(config), f"{where}.mapping")

    def resources(self, config: dict[str, Any]) -> list[str]:
        return [RESOURCE]

    def fetch(self, config: dict[str, Any], context: FetchContext) -> Iterator[Page]:
        upload = context.upload
        if upload is None:
            raise SourceFailure("an upload source runs when a file is sent to it")
        parsed = UploadConfig.model_validate(config)
        required = tuple(column.key for column in parsed.columns if column.required)
        try:
            workbook = xlsx.is_workbook(upload.data, upload.filename)
            rows = _rows(upload, parsed, required, workbook)
        except InvalidInput as exc:
            raise SourceFailure(exc.message) from None
        labels = parsed.labels()
        content_type = CONTENT_TYPES[workbook]
        body: bytes | None = upload.data  # kept once, with the first page
        count = 0
        while True:
            try:
                page = list(islice(rows, ROWS_PER_PAGE))
            except InvalidInput as exc:  # a row further on found wrong (too wide, unreadable)
                raise SourceFailure(exc.message) from None
            count += len(page)
            # Counted before reading as the row tags less the header's row number, which
            # overstates the rows above the header when empty ones were left out.
            if count > parsed.max_rows:
                raise SourceFailure(_too_many(upload, parsed, count))
            if not page and body is None:
                return
            records = [dict(row.values) for row in page]
            yield Page(
                resource=RESOURCE,
                reference=upload.filename,
                body=body,
                content_type=content_type,
                records=records,
                row_numbers=[row.number for row in page],
                labels=labels,
                rejected=_missing_required(records, required, labels),
            )
            body = None


def _rows(
    upload: Upload, parsed: UploadConfig, required: tuple[str, ...], workbook: bool
) -> Iterator[Row]:
    """The file's rows, checked against the row limit before the first is read. A workbook is
    read as it is stored (ROWS_PER_PAGE rows in memory at a time, whatever the file's length:
    bench/datahub_upload.py); a CSV or JSON file, at most 50 MB of text, is read whole."""
    if not workbook:
        table = read_table(upload.data, upload.filename, aliases=parsed.aliases(),
                           required=required)  # fmt: skip
        if len(table.rows) > parsed.max_rows:
            raise InvalidInput(_too_many(upload, parsed, len(table.rows)))
        return iter(table.rows)
    # The title and the header rows above the data are not counted against max_rows.
    limits = xlsx.Limits(max_rows=parsed.max_rows + HEADER_SEARCH_ROWS)
    tags = xlsx.count_rows(upload.data, upload.filename, limits)
    sheet = stream_workbook(upload.data, upload.filename, parsed.aliases(), required, limits)
    if tags - sheet.header_row > parsed.max_rows:
        sheet.rows.close()
        raise InvalidInput(_too_many(upload, parsed, tags - sheet.header_row))
    return sheet.rows


def _too_many(upload: Upload, parsed: UploadConfig, rows: int) -> str:
    return (
        f"{upload.filename}: {rows} rows, more than the {parsed.max_rows} this source accepts "
        "(config.max_rows)"
    )


def _missing_required(
    records: list[dict[str, Any]], required: tuple[str, ...], labels: dict[str, str]
) -> dict[int, tuple[str, str]]:
    missing: dict[int, tuple[str, str]] = {}
    for index, record in enumerate(records, start=1):
        for key in required:
            if not str(record.get(key) or "").strip():
                missing[index] = (key, f"column {labels.get(key, key)!r} is empty")
                break
    return missing
