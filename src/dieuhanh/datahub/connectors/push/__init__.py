"""The push connector: units' own systems POST their records to the hub with the source's own
token (``POST /api/v1/sources/{code}/push``), instead of the hub fetching them.

    kind: push
    config:
      max_records: 10000
      mapping:
        records: {to: dataset, dataset: so_tn_cases, primary_key: ma, unit_field: don_vi}

The body is ``{"records": [...]}`` (or the list itself), kept whole as the run's payload; each
push is a recorded run, and pushing the same records again changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dieuhanh.core.errors import InvalidInput
from dieuhanh.datahub.connectors import FetchContext, Page, SourceFailure
from dieuhanh.datahub.mapping import DatasetMapping, parse_mappings
from dieuhanh.datahub.spec import describe_errors

RESOURCE = "records"


class PushConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_records: int = Field(default=10_000, ge=1, le=100_000)
    mapping: dict[str, Any] = Field(default_factory=dict)


class PushConnector:
    kind = "push"

    def check(self, config: dict[str, Any], where: str) -> None:
        try:
            parsed = PushConfig.model_validate(config)
        except ValidationError as exc:
            raise InvalidInput(describe_errors(exc, where + "."), code="invalid_source") from None
        mappings = parse_mappings(parsed.mapping, [RESOURCE], f"{where}.mapping")
        mapping = mappings[RESOURCE]
        if isinstance(mapping, DatasetMapping) and not mapping.primary_key:
            raise InvalidInput(
                f"{where}.mapping.{RESOURCE}.primary_key: a dataset needs the field that "
                "identifies a record",
                code="invalid_source",
            )

    def resources(self, config: dict[str, Any]) -> list[str]:
        return [RESOURCE]

    def fetch(self, config: dict[str, Any], context: FetchContext) -> Iterator[Page]:
        sent = context.upload
        if sent is None:
            raise SourceFailure("a push source runs when a unit's system sends records to it")
        limit = PushConfig.model_validate(config).max_records
        try:
            document = json.loads(sent.data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SourceFailure(f"the body is not JSON ({exc})") from None
        records = document.get(RESOURCE) if isinstance(document, dict) else document
        if not isinstance(records, list):
            raise SourceFailure('the body must be {"records": [...]} or a list of records')
        if len(records) > limit:
            raise SourceFailure(
                f"{len(records)} records in one push, more than the {limit} this source "
                "accepts (config.max_records): send them in parts"
            )
        yield Page(RESOURCE, sent.filename, sent.data, "application/json", records)
