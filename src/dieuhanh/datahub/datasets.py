"""Datasets as people read them: the fields inferred from the records (then confirmed by a
person, with labels), and the records filtered by unit, text and field values."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from dieuhanh.core.access import Principal
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.text import fold, like_pattern
from dieuhanh.datahub.models import DatasetRecord, DatasetSchema, DataSource
from dieuhanh.units.service import find_unit, subtree_ids

SAMPLE = 1000  # records read to infer a schema
EXAMPLES = 3
TYPES = ("text", "number", "date", "boolean", "list", "object")
# What a field is for: "unit" places the record in a unit and "key" identifies it (inferred from
# the source's mapping), "period" dates it (a new aggregate's date field), "measure" is a
# quantity to sum; anything else is an "attribute". Only a person says which date is the period.
ROLES = ("attribute", "key", "unit", "period", "measure")


@dataclass
class Field:
    name: str  # a dotted path: "don_vi.ma"
    type: str
    filled: float  # share of the sampled records with a value
    examples: list[str]
    label: str | None = None
    role: str = "attribute"


def infer_schema(session: Session, dataset: str) -> list[Field]:
    """The fields of the first records, one level of nesting flattened, most filled first."""
    rows = session.scalars(
        select(DatasetRecord.data)
        .where(DatasetRecord.dataset == dataset)
        .order_by(DatasetRecord.id)
        .limit(SAMPLE)
    ).all()
    kinds: dict[str, Counter[str]] = {}
    examples: dict[str, list[str]] = {}
    filled: Counter[str] = Counter()
    for data in rows:
        for name, value in _flatten(data):
            kinds.setdefault(name, Counter())[_kind(value)] += 1
            if value not in (None, ""):
                filled[name] += 1
                seen = examples.setdefault(name, [])
                if len(seen) < EXAMPLES and str(value) not in seen:
                    seen.append(str(value)[:80])
    total = max(len(rows), 1)
    roles = mapped_roles(session, dataset)
    fields = [
        Field(name, kinds[name].most_common(1)[0][0], round(filled[name] / total, 3),
              examples.get(name, []), role=roles.get(name, "attribute"))
        for name in kinds
    ]  # fmt: skip
    return sorted(fields, key=lambda field: (-field.filled, field.name))


def mapped_roles(session: Session, dataset: str) -> dict[str, str]:
    """The unit field and the primary key the sources filling the dataset declare."""
    roles: dict[str, str] = {}
    for config in session.scalars(select(DataSource.config)):
        resources = {r.get("name"): r for r in config.get("resources", []) if isinstance(r, dict)}
        for name, mapping in (config.get("mapping") or {}).items():
            if not isinstance(mapping, dict) or mapping.get("dataset") != dataset:
                continue
            key = mapping.get("primary_key") or resources.get(name, {}).get("primary_key")
            if isinstance(key, str):
                roles[key] = "key"
            if isinstance(mapping.get("unit_field"), str):
                roles[mapping["unit_field"]] = "unit"
    return roles


def known_field(name: str, known: set[str]) -> bool:
    """Whether a dotted name is among the fields seen (an object's inner field or a field's
    object counts: inference flattens one level only)."""
    return (
        name in known
        or any(field.startswith(f"{name}.") for field in known)
        or any(name.startswith(f"{field}.") for field in known)
    )


def field_names(session: Session, dataset: str) -> set[str]:
    """Every field the dataset's records or its confirmed schema name; empty when unknown."""
    names = {field.name for field in infer_schema(session, dataset)}
    confirmed = session.get(DatasetSchema, dataset)
    return names | {item["name"] for item in confirmed.fields} if confirmed else names


def schema_of(session: Session, dataset: str) -> tuple[list[Field], DatasetSchema | None]:
    """The confirmed schema's fields (with labels) when there is one, else the inferred."""
    fields, confirmed, _ = schema_for_confirming(session, dataset)
    return fields, confirmed


def schema_for_confirming(
    session: Session, dataset: str
) -> tuple[list[Field], DatasetSchema | None, list[Field]]:
    """The confirmed fields (else the inferred), and the inferred fields the confirmed schema
    left out: what the confirmation form offers."""
    inferred = infer_schema(session, dataset)
    confirmed = session.get(DatasetSchema, dataset)
    if confirmed is None:
        return inferred, None, []
    by_name = {field.name: field for field in inferred}
    fields = []
    for item in confirmed.fields:
        found = by_name.pop(item["name"], None)
        fields.append(
            Field(item["name"], item.get("type", "text"), found.filled if found else 0.0,
                  found.examples if found else [], item.get("label"),
                  item.get("role") or "attribute")
        )  # fmt: skip
    return fields, confirmed, list(by_name.values())


def confirm_schema(
    session: Session, dataset: str, fields: list[dict[str, Any]], principal: Principal
) -> DatasetSchema:
    if not fields:
        raise InvalidInput("fields: keep at least one field", code="invalid_schema")
    known = {field.name for field in infer_schema(session, dataset)}
    for index, field in enumerate(fields):
        _check_field(index, field, known)
    row = session.get(DatasetSchema, dataset) or DatasetSchema(dataset=dataset)
    session.add(row)
    row.fields = [
        {"name": f["name"], "type": f.get("type", "text"), "label": f.get("label") or None,
         "role": f.get("role") or "attribute"}
        for f in fields
    ]  # fmt: skip
    row.confirmed_by, row.confirmed_at = principal.username, datetime.now().astimezone()
    session.flush()
    return row


def _check_field(index: int, field: dict[str, Any], known: set[str]) -> None:
    name = field.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"fields[{index}].name: give the field's name", code="invalid_schema")
    for key, allowed, default in (("type", TYPES, "text"), ("role", ROLES, "attribute")):
        if (field.get(key) or default) not in allowed:
            raise InvalidInput(
                f"fields[{index}].{key}: '{field[key]}' is not a {key}; use one of "
                f"{', '.join(allowed)}",
                code="invalid_schema",
            )
    if known and not known_field(name, known):
        raise InvalidInput(
            f"fields[{index}].name: the records have no field '{name}'", code="unknown_field"
        )


def record_query(
    session: Session,
    principal: Principal,
    dataset: str,
    *,
    unit: str | None = None,
    q: str | None = None,
    where: list[str] = (),  # type: ignore[assignment]
) -> Select[DatasetRecord]:
    """The records of a dataset within the caller's scope, narrowed by unit (its subtree),
    text (diacritics ignored) and ``field:value`` pairs (exact, nested fields dotted)."""
    conditions: list[ColumnElement[bool]] = [
        DatasetRecord.dataset == dataset,
        principal.read_scope.where(DatasetRecord.unit_id),
    ]
    if unit:
        found = find_unit(session, unit)
        if found is None:
            raise InvalidInput(f"unit: no unit with code '{unit}'", code="unit_not_found")
        ids = subtree_ids(session, found)
        if ids is not None:
            conditions.append(DatasetRecord.unit_id.in_(ids))
    if q and q.strip():
        conditions.append(DatasetRecord.search_text.like(like_pattern(fold(q)), escape="\\"))
    for pair in where:
        name, sep, value = pair.partition(":")
        if not sep or not name:
            raise InvalidInput(f"where: {pair!r} is not field:value", code="invalid_filter")
        path = tuple(name.split("."))
        conditions.append(
            DatasetRecord.data[path if len(path) > 1 else path[0]].as_string() == value
        )
    return select(DatasetRecord).where(*conditions).order_by(DatasetRecord.id)


def count(session: Session, query: Select[DatasetRecord]) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def _flatten(data: Any) -> list[tuple[str, Any]]:
    if not isinstance(data, dict):
        return [("value", data)]
    items: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            items.extend((f"{key}.{inner}", item) for inner, item in value.items())
        else:
            items.append((str(key), value))
    return items


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    text = str(value or "")
    try:
        float(text.replace(",", "."))
        return "number"
    except ValueError:
        pass
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
        return "date"
    except ValueError:
        return "text"
