"""The web page connector, for sites with no API (the Resolution 57 monitoring page): fetch a
page through the guarded session and read HTML tables or labelled figures by CSS selector.

    kind: web_page
    config:
      url: https://nq57.dongnai.gov.vn/tien-do
      tables:                         # each table is a resource: one record per body row
        - name: progress
          selector: "table#tien-do"
      figures:                        # each group is a resource of one record
        - name: summary
          fields: {tong_nhiem_vu: "#tong .so", da_hoan_thanh: "#xong .so"}
      mapping: {progress: {...}, summary: {...}}   # as for every source

A table's header cells become the record's keys, written as a person would type them without
accents (``Số nhiệm vụ`` → ``so_nhiem_vu``); cells are text. A selector that matches nothing
fails the run: the page's layout changed, and storing nothing would hide it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.redact import scrub_url
from dieuhanh.core.text import fold
from dieuhanh.datahub.connectors import FetchContext, Page, SourceFailure
from dieuhanh.datahub.connectors.http import (
    RequestRefused,
    guarded_session,
    http_failure,
    http_url,
)
from dieuhanh.datahub.mapping import DatasetMapping, parse_mappings
from dieuhanh.datahub.spec import describe_errors


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Table(_Strict):
    name: str = Field(min_length=1, max_length=100)
    selector: str = Field(min_length=1)
    primary_key: str | list[str] | None = None


class Figures(_Strict):
    name: str = Field(min_length=1, max_length=100)
    fields: dict[str, str] = Field(min_length=1)


class WebPageConfig(_Strict):
    url: str
    tables: list[Table] = Field(default_factory=list)
    figures: list[Figures] = Field(default_factory=list)
    mapping: dict[str, Any] = Field(default_factory=dict)

    _url = field_validator("url")(http_url)


def column_key(header: str) -> str:
    """``Số nhiệm vụ (%)`` → ``so_nhiem_vu``: what a mapping names a column by."""
    return re.sub(r"\s+", "_", fold(header)) or "column"


class WebPageConnector:
    kind = "web_page"

    def check(self, config: dict[str, Any], where: str) -> None:
        parsed = _parse(config, where)
        if not parsed.tables and not parsed.figures:
            raise InvalidInput(f"{where}: declare tables or figures to read", code="invalid_source")
        for index, table in enumerate(parsed.tables):
            _check_selector(table.selector, f"{where}.tables[{index}].selector")
        for index, group in enumerate(parsed.figures):
            for field, selector in group.fields.items():
                _check_selector(selector, f"{where}.figures[{index}].fields.{field}")
        mappings = parse_mappings(parsed.mapping, self.resources(config), f"{where}.mapping")
        keyed = {table.name for table in parsed.tables if table.primary_key}
        for name, mapping in mappings.items():
            if (
                isinstance(mapping, DatasetMapping)
                and not mapping.primary_key
                and name not in keyed
            ):
                raise InvalidInput(
                    f"{where}.mapping.{name}.primary_key: a dataset needs the column that "
                    "identifies a row",
                    code="invalid_source",
                )

    def resources(self, config: dict[str, Any]) -> list[str]:
        names = [t.get("name", "") for t in config.get("tables", []) if isinstance(t, dict)]
        return names + [f.get("name", "") for f in config.get("figures", []) if isinstance(f, dict)]

    def fetch(self, config: dict[str, Any], context: FetchContext) -> Iterator[Page]:
        import requests
        from bs4 import BeautifulSoup

        parsed = WebPageConfig.model_validate(config)
        url = scrub_url(parsed.url)
        settings = context.settings
        # One page, read whole: the session (and its connection) is closed before parsing.
        with guarded_session(context.policy, parsed.url, settings) as session:
            try:
                response = session.get(parsed.url)
                response.raise_for_status()
            except (RequestRefused, requests.RequestException) as exc:
                raise SourceFailure(http_failure(exc, url, settings)) from None
        body, content_type = response.content, response.headers.get("Content-Type")
        document = BeautifulSoup(body, "html.parser")
        for table in parsed.tables:
            records = _table_records(document, table)
            yield Page(table.name, url, body, content_type, records, primary_key=table.primary_key)
        for group in parsed.figures:
            yield Page(group.name, url, body, content_type, [_figures(document, group)])


def _parse(config: dict[str, Any], where: str) -> WebPageConfig:
    try:
        return WebPageConfig.model_validate(config)
    except ValidationError as exc:
        raise InvalidInput(describe_errors(exc, where + "."), code="invalid_source") from None


def _check_selector(selector: str, key: str) -> None:
    import soupsieve

    try:
        soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError as exc:
        raise InvalidInput(
            f"{key}: {selector!r} is not a CSS selector ({str(exc).splitlines()[0]})",
            code="invalid_source",
        ) from None


def _text(node: Any) -> str:
    return " ".join(node.get_text(" ").split())


def _table_records(document: Any, table: Table) -> list[dict[str, Any]]:
    found = document.select_one(table.selector)
    if found is None:
        raise SourceFailure(
            f"resource {table.name!r}: no element matches {table.selector!r}: has the page's "
            "layout changed?"
        )
    rows = found.select("tr")
    header_row = next((row for row in rows if row.find("th")), rows[0] if rows else None)
    if header_row is None:
        raise SourceFailure(f"resource {table.name!r}: the table {table.selector!r} has no rows")
    keys = [column_key(_text(cell)) for cell in header_row.find_all(["th", "td"])]
    records = []
    for row in rows[rows.index(header_row) + 1 :]:
        cells = [_text(cell) for cell in row.find_all(["td", "th"])]
        if cells and any(cells):
            records.append(dict(zip(keys, cells, strict=False)))
    return records


def _figures(document: Any, group: Figures) -> dict[str, Any]:
    record = {}
    for field, selector in group.fields.items():
        found = document.select_one(selector)
        if found is None:
            raise SourceFailure(
                f"resource {group.name!r}: field {field!r}: no element matches {selector!r}: "
                "has the page's layout changed?"
            )
        record[field] = _text(found)
    return record
