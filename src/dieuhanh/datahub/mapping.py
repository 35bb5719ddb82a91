"""From a source's records to what the product stores: data values, or rows of a dataset.

A source's ``config.mapping`` maps each resource by name::

    mapping:
      dossiers:                   # rows of a dataset, keyed by the record's primary key
        to: dataset
        dataset: igate_dossiers
        primary_key: ma_ho_so      # or the resource's own primary_key (dlt's key)
        unit_field: don_vi.ma      # optional: the unit a record belongs to (scope, aggregates)
      monthly_figures:            # data values for the indicator engine
        to: values
        element: DOSSIERS_RECEIVED   # a fixed element code, or element_field
        unit_field: ma_xa
        unit_match: code             # code | name | alias:<scheme> (e.g. alias:igate)
        period_field: ky             # a period code (202603), or a date with period_type
        value_field: so_luong

Fields are dotted paths into a record (``don_vi.ma``). A record that cannot be mapped (a field
missing, a unit not found) is rejected with its reason; the run goes on with the others.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.text import fold, name_key
from dieuhanh.datahub.spec import CODE, describe_errors
from dieuhanh.indicators.catalog.periods import PeriodType, period_of
from dieuhanh.units.models import Unit, UnitAlias, UnitName


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _UnitField(_Strict):
    unit_field: str | None = None
    unit_match: str = "code"


class DatasetMapping(_UnitField):
    to: Literal["dataset"]
    dataset: str = Field(pattern=CODE.pattern)
    primary_key: str | list[str] | None = None


class ValuesMapping(_UnitField):
    to: Literal["values"]
    element: str | None = None
    element_field: str | None = None
    unit_field: str
    period: str | None = None
    period_field: str | None = None
    period_type: PeriodType | None = None  # period_field holds a date, not a period code
    value_field: str
    # "vi": numbers as Vietnamese pages write them (1.234,5 and 12,5 %) are read as 1234.5, 12.5
    value_format: Literal["plain", "vi"] = "plain"
    option: str | None = None
    option_field: str | None = None
    comment_field: str | None = None


class SeriesMapping(_UnitField):
    """Sensor readings: device, metric, time and value, stored as a time series. The unit comes
    from ``devices`` (device → unit code), else ``unit_field``, else the point
    (``lat_field``, ``lon_field``) in the imported boundaries."""

    to: Literal["series"]
    device_field: str | None = None
    device_topic_level: int | None = Field(default=None, ge=0)
    metric: str | None = None
    metric_field: str | None = None
    metric_topic_level: int | None = Field(default=None, ge=0)
    value_field: str = "payload.value"
    time_field: str | None = None  # default: when the hub received the message
    devices: dict[str, str] = Field(default_factory=dict)
    lat_field: str | None = None
    lon_field: str | None = None

    def device(self, record: Any) -> str:
        if self.device_topic_level is not None:
            return _topic_level(record, self.device_topic_level, "device_topic_level")
        return text_of(record, self.device_field or "payload.device")

    def metric_of(self, record: Any) -> str:
        if self.metric is not None:
            return self.metric
        if self.metric_topic_level is not None:
            return _topic_level(record, self.metric_topic_level, "metric_topic_level")
        return text_of(record, self.metric_field or "payload.metric")

    def moment(self, record: Any) -> datetime:
        text = text_of(record, self.time_field or "received_at")
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise RecordProblem(self.time_field or "", f"{text!r} is not a time") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _topic_level(record: Any, level: int, name: str) -> str:
    levels = text_of(record, "topic").split("/")
    if level >= len(levels) or not levels[level]:
        raise RecordProblem(name, f"topic {'/'.join(levels)!r} has no level {level}")
    return levels[level]


Mapping = DatasetMapping | ValuesMapping | SeriesMapping
KINDS: dict[str, type[DatasetMapping] | type[ValuesMapping] | type[SeriesMapping]] = {
    "dataset": DatasetMapping,
    "values": ValuesMapping,
    "series": SeriesMapping,
}


def parse_mappings(data: Any, resources: list[str], where: str) -> dict[str, Mapping]:
    """Every resource mapped once, to a dataset or to values; errors name the key."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: map each resource by its name", code="invalid_source")
    mappings: dict[str, Mapping] = {}
    for name, item in data.items():
        key = f"{where}.{name}"
        kind = KINDS.get(str(item.get("to"))) if isinstance(item, dict) else None
        if kind is None:
            raise InvalidInput(
                f"{key}.to: say where the records go: `dataset`, `values` or `series`",
                code="invalid_source",
            )
        try:
            mappings[name] = kind.model_validate(item)
        except ValidationError as exc:
            raise InvalidInput(describe_errors(exc, key + "."), code="invalid_source") from None
    for name, mapping in mappings.items():
        key = f"{where}.{name}"
        if name not in resources:
            raise InvalidInput(
                f"{key}: no resource is named {name!r} (resources: {', '.join(resources)})",
                code="invalid_source",
            )
        _check_choice(mapping, key)
    for name in resources:
        if name not in mappings:
            raise InvalidInput(
                f"{where}.{name}: resource {name!r} is not mapped; map it `to: dataset` or "
                "`to: values`",
                code="invalid_source",
            )
    return mappings


def _check_choice(mapping: Mapping, key: str) -> None:
    if not (mapping.unit_match in {"code", "name"} or mapping.unit_match.startswith("alias:")):
        raise InvalidInput(
            f"{key}.unit_match: use code, name or alias:<scheme>", code="invalid_source"
        )
    if isinstance(mapping, ValuesMapping):
        for fixed, field in (("element", "element_field"), ("period", "period_field")):
            if (getattr(mapping, fixed) is None) == (getattr(mapping, field) is None):
                raise InvalidInput(
                    f"{key}: give exactly one of {fixed} or {field}", code="invalid_source"
                )
        if mapping.period_type is not None and mapping.period_field is None:
            raise InvalidInput(
                f"{key}.period_type: needs period_field (a date to turn into a period)",
                code="invalid_source",
            )


class RecordProblem(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def pick(record: Any, path: str) -> Any:
    """The value at a dotted path; RecordProblem when a step is missing."""
    value = record
    for step in path.split("."):
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            raise RecordProblem(path, f"the record has no field {path!r}")
    return value


def text_of(record: Any, path: str) -> str:
    value = pick(record, path)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RecordProblem(path, f"field {path!r} is empty")
    if isinstance(value, dict | list):
        raise RecordProblem(path, f"field {path!r} is not a single value")
    return str(value).strip()


def optional_text(record: Any, path: str | None) -> str | None:
    """A field that may be missing or empty (a comment): None then."""
    if path is None:
        return None
    try:
        return text_of(record, path)
    except RecordProblem:
        return None


def record_key(record: Any, primary_key: str | list[str]) -> str:
    keys = [primary_key] if isinstance(primary_key, str) else primary_key
    return "|".join(text_of(record, key) for key in keys)[:200]


SEARCH_TEXT_LIMIT = 4000


def search_text(record: Any) -> str:
    """Every value of a record, folded (no accents, lower case), for searches that ignore
    diacritics: "loc thanh" finds "Xã Lộc Thạnh"."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for item in node.values():
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif node is not None:
            parts.append(_folded(str(node)))

    walk(record)
    return " ".join(part for part in parts if part)[:SEARCH_TEXT_LIMIT]


@functools.lru_cache(maxsize=65536)
def _folded(text: str) -> str:
    # Records repeat their words (procedures, communes, states): each is folded once.
    return fold(text)


def fingerprint(record: Any) -> str:
    """Of a JSON-native record (what every connector yields): equal records, equal prints."""
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def value_text(mapping: ValuesMapping, record: Any) -> str:
    text = text_of(record, mapping.value_field)
    if mapping.value_format == "vi":
        text = text.replace("%", "").replace(" ", "").replace(".", "").replace(",", ".")
    return text


def period_code(mapping: ValuesMapping, record: Any) -> str:
    if mapping.period is not None:
        return mapping.period
    assert mapping.period_field is not None
    text = text_of(record, mapping.period_field)
    if mapping.period_type is None:
        return text
    day = parse_day(text)
    if day is None:
        raise RecordProblem(
            mapping.period_field, f"field {mapping.period_field!r}: {text!r} is not a date"
        )
    return period_of(mapping.period_type, day).code


def parse_day(text: str) -> date | None:
    """An ISO date or time (``Z`` allowed), or dd/mm/yyyy as Vietnamese files write it."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return datetime.strptime(text, "%d/%m/%Y").date()
        except ValueError:
            return None


@dataclass
class UnitMatcher:
    """Units found by code, by name (the operating province's, current or former names) or by
    another system's code; loaded once per run."""

    by_code: dict[str, tuple[int, str]]
    by_name: dict[str, list[tuple[int, str]]]
    by_alias: dict[tuple[str, str], tuple[int, str]]
    code_of: dict[int, str]  # a unit's code by its id: what the events about records name

    @classmethod
    def load(cls, session: Session, province_code: str) -> UnitMatcher:
        units = session.execute(select(Unit.id, Unit.code, Unit.parent_id, Unit.name_key)).all()
        by_code = {code: (unit_id, code) for unit_id, code, _, _ in units}
        province = by_code.get(province_code.zfill(2))
        local = {
            unit_id: code
            for unit_id, code, parent_id, _ in units
            if province is not None and (parent_id == province[0] or unit_id == province[0])
        }
        by_name: dict[str, list[tuple[int, str]]] = {}
        former = session.execute(select(UnitName.unit_id, UnitName.name_key)).all()
        names = [(unit_id, key) for unit_id, _, _, key in units] + [
            (unit_id, key) for unit_id, key in former
        ]
        for unit_id, key in names:
            if unit_id in local and (unit_id, local[unit_id]) not in by_name.get(key, []):
                by_name.setdefault(key, []).append((unit_id, local[unit_id]))
        aliases = session.execute(select(UnitAlias.scheme, UnitAlias.code, UnitAlias.unit_id)).all()
        code_of = {unit_id: code for unit_id, code, _, _ in units}
        by_alias = {
            (scheme, code): (unit_id, code_of[unit_id])
            for scheme, code, unit_id in aliases
            if unit_id in code_of
        }
        return cls(by_code, by_name, by_alias, code_of)

    def match(self, mapping: Mapping, record: Any) -> tuple[int, str]:
        assert mapping.unit_field is not None
        text = text_of(record, mapping.unit_field)
        found: tuple[int, str] | None
        if mapping.unit_match == "name":
            candidates = self.by_name.get(name_key(text), [])
            if len(candidates) > 1:
                codes = ", ".join(code for _, code in candidates)
                raise RecordProblem(
                    mapping.unit_field, f"unit name {text!r} names several units ({codes})"
                )
            found = candidates[0] if candidates else None
        elif mapping.unit_match.startswith("alias:"):
            found = self.by_alias.get((mapping.unit_match[6:], text))
        else:
            found = self.by_code.get(text) or self._code_variants(text)
        if found is None:
            raise RecordProblem(
                mapping.unit_field,
                f"no unit matches {text!r} (by {mapping.unit_match}) in field "
                f"{mapping.unit_field!r}",
            )
        return found

    def _code_variants(self, text: str) -> tuple[int, str] | None:
        if text.isdigit():
            for candidate in (text.zfill(2), text.zfill(5)):
                if candidate in self.by_code:
                    return self.by_code[candidate]
        return self.by_code.get(text.upper())
