"""From a figure back to what produced it: value → source → run → raw payload → record.

A connector value's ``source_detail`` names its source, run and payload
(:func:`dieuhanh.datahub.runs.source_detail`). The payload is kept as received; the records in
it are found again by applying the source's mapping to every object of the payload and keeping
those that map to this very value, so the trace does not depend on the connector's selectors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.access import Principal, authorize
from dieuhanh.core.errors import NotFound
from dieuhanh.datahub.mapping import RecordProblem, UnitMatcher, ValuesMapping, period_code, text_of
from dieuhanh.datahub.models import DataSource, RunPayload, SourceRun
from dieuhanh.datahub.runs import payload_body
from dieuhanh.indicators.catalog.models import DataElement, DataValue, Source, in_period_codes
from dieuhanh.units.service import find_unit

DETAIL = re.compile(r"datahub:(?P<code>[a-z0-9_]+) run (?P<run>\d+) payload (?P<payload>\d+)")
MAX_RECORDS = 10


def trace_value(
    session: Session,
    principal: Principal,
    *,
    element: str,
    unit: str,
    period: str,
    option: str = "",
    province_code: str = "75",
) -> dict[str, Any]:
    unit_row = find_unit(session, unit)
    if unit_row is None:
        raise NotFound(f"No unit with code '{unit}'.", code="unit_not_found")
    authorize(principal, "read", unit_row.id, unit_row.name)
    element_id = session.scalar(select(DataElement.id).where(DataElement.code == element))
    if element_id is None:
        raise NotFound(f"No data element with code '{element}'.", code="element_not_found")
    value = session.scalar(
        select(DataValue).where(
            DataValue.element_id == element_id,
            in_period_codes([period]),
            DataValue.unit_id == unit_row.id,
            DataValue.option == option,
        )
    )
    if value is None:
        raise NotFound(
            f"No value of {element} for {unit_row.name} in {period}.", code="value_not_found"
        )
    answer: dict[str, Any] = {
        "value": {
            "element": element, "unit": unit_row.code, "unit_name": unit_row.name,
            "period": period, "option": option, "value": value.value, "source": value.source,
            "source_detail": value.source_detail, "stored_by": value.stored_by,
            "updated_at": value.updated_at.isoformat(),
        },
        "source": None, "run": None, "payload": None, "records": [],
    }  # fmt: skip
    found = DETAIL.fullmatch(value.source_detail or "")
    if value.source != Source.CONNECTOR or found is None:
        return answer
    source = session.scalar(select(DataSource).where(DataSource.code == found["code"]))
    run = session.get(SourceRun, int(found["run"]))
    payload = session.get(RunPayload, int(found["payload"]))
    if source is not None:
        answer["source"] = {"code": source.code, "name": source.name, "kind": source.kind}
    if run is not None:
        answer["run"] = {
            "id": run.id, "status": run.status, "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        }  # fmt: skip
    if payload is None:
        return answer  # past its retention: the chain stops at the run
    answer["payload"] = {
        "id": payload.id, "resource": payload.resource, "reference": payload.reference,
        "sha256": payload.sha256, "size": payload.size,
        "received_at": payload.received_at.isoformat(), "url": f"/api/v1/payloads/{payload.id}",
    }  # fmt: skip
    mapping = (source.config.get("mapping") or {}).get(payload.resource) if source else None
    if isinstance(mapping, dict) and mapping.get("to") == "values":
        matcher = UnitMatcher.load(session, province_code)
        answer["records"] = _producing_records(
            payload_body(payload), ValuesMapping.model_validate(mapping), matcher,
            (element, unit_row.code, period, option),
        )  # fmt: skip
    return answer


def _producing_records(
    body: bytes, mapping: ValuesMapping, matcher: UnitMatcher, wanted: tuple[str, str, str, str]
) -> list[dict[str, Any]]:
    try:
        document = json.loads(body)
    except ValueError:
        return []
    found = []
    for candidate in _objects(document):
        try:
            key = (
                mapping.element or text_of(candidate, mapping.element_field or ""),
                matcher.match(mapping, candidate)[1],
                period_code(mapping, candidate),
                mapping.option
                or (text_of(candidate, mapping.option_field) if mapping.option_field else ""),
            )
        except RecordProblem:
            continue
        if key == wanted:
            found.append(candidate)
            if len(found) >= MAX_RECORDS:
                break
    return found


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for item in node.values():
            yield from _objects(item)
    elif isinstance(node, list):
        for item in node:
            yield from _objects(item)
