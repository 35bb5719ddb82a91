"""Loading indicator configuration from YAML files: the shipped national and provincial sets,
or a province's own (``dieuhanh indicators load FILE...``).

A file has up to six sections, each a list validated by the same models as the API (camelCase
keys, unknown keys refused)::

    disaggregations: [...]   constants: [...]   dataElements: [...]
    forms: [...]             indicators: [...]  validationRules: [...]

All files are read and checked before anything is stored, and sections are applied in that
order across files, so a file may use codes another defines. A record whose code exists is kept
as it is (people edit the shipped configuration; loading again must not undo that) unless
``update`` is set. Errors name the file, the line and the key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.db.actor import bulk
from dieuhanh.core.errors import DieuhanhError, InvalidInput
from dieuhanh.indicators.catalog import metadata
from dieuhanh.indicators.catalog.form_models import ReportForm, ValidationRule
from dieuhanh.indicators.catalog.models import Constant, DataElement, Disaggregation, Indicator
from dieuhanh.indicators.catalog.schemas import (
    ConstantIn,
    DataElementIn,
    DisaggregationIn,
    IndicatorIn,
)
from dieuhanh.indicators.reporting import forms
from dieuhanh.indicators.reporting.schemas import FormIn, ValidationRuleIn

SHIPPED_PACKAGE = "dieuhanh.indicators"
SHIPPED_FOLDER = "config"


@dataclass(frozen=True)
class Section:
    key: str
    schema: type[BaseModel]
    model: type[Any]
    what: str


# In the order they are applied: each may use the codes of those before it.
SECTIONS = (
    Section("disaggregations", DisaggregationIn, Disaggregation, "disaggregation"),
    Section("constants", ConstantIn, Constant, "constant"),
    Section("dataElements", DataElementIn, DataElement, "data element"),
    Section("forms", FormIn, ReportForm, "report form"),
    Section("indicators", IndicatorIn, Indicator, "indicator"),
    Section("validationRules", ValidationRuleIn, ValidationRule, "validation rule"),
)
ALLOWED_TOP = {section.key for section in SECTIONS} | {"description"}


@dataclass(frozen=True)
class Entry:
    filename: str
    line: int
    index: int
    data: Any  # a validated schema instance

    def where(self, section: str) -> str:
        return f"{self.filename} line {self.line}: {section}[{self.index}]"


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: dict[str, int], key: str) -> None:
        bucket[key] = bucket.get(key, 0) + 1

    def summary(self) -> str:
        parts = []
        for label, bucket in (
            ("created", self.created),
            ("updated", self.updated),
            ("kept", self.kept),
        ):
            if bucket:
                parts.append(f"{label} " + ", ".join(f"{n} {k}" for k, n in bucket.items()))
        return "; ".join(parts) or "nothing to load"


class _Reader:
    """YAML → plain data, remembering the line of every value so errors can point at it."""

    def __init__(self, text: str, filename: str) -> None:
        self.filename = filename
        self.loader = yaml.SafeLoader(text)
        self.lines: dict[tuple[Any, ...], int] = {}

    def read(self) -> Any:
        try:
            node = self.loader.get_single_node()
            return None if node is None else self._value(node, ())
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise InvalidInput(
                f"{self.filename}{line}: not valid YAML: {problem}.", code="invalid_yaml"
            ) from None
        finally:
            self.loader.dispose()

    def _value(self, node: Any, path: tuple[Any, ...]) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(self.loader.construct_object(key_node))
                if key in result:
                    raise InvalidInput(
                        f"{self.filename} line {key_node.start_mark.line + 1}: key '{key}' "
                        "appears twice.",
                        code="duplicate_key",
                    )
                result[key] = self._value(value_node, (*path, key))
                self.lines[(*path, key)] = key_node.start_mark.line + 1
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self._value(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)

    def line(self, path: tuple[Any, ...]) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)


def read_file(text: str, filename: str) -> dict[str, list[Entry]]:
    """Parse and validate one file; InvalidInput naming file, line and key."""
    reader = _Reader(text, filename)
    document = reader.read() or {}
    if not isinstance(document, dict):
        raise InvalidInput(
            f"{filename} line 1: expected sections such as dataElements: [...].",
            code="invalid_config",
        )
    unknown = sorted(set(document) - ALLOWED_TOP)
    if unknown:
        raise InvalidInput(
            f"{filename} line {reader.line((unknown[0],))}: unknown key '{unknown[0]}'; the "
            f"sections are {', '.join(s.key for s in SECTIONS)}.",
            code="unknown_key",
        )
    entries: dict[str, list[Entry]] = {}
    for section in SECTIONS:
        items = document.get(section.key) or []
        if not isinstance(items, list):
            raise InvalidInput(
                f"{filename} line {reader.line((section.key,))}: {section.key} must be a list.",
                code="invalid_config",
            )
        entries[section.key] = [
            _entry(reader, section, index, item) for index, item in enumerate(items)
        ]
    return entries


def _entry(reader: _Reader, section: Section, index: int, item: Any) -> Entry:
    path = (section.key, index)
    try:
        data = section.schema.model_validate(item)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        key = ".".join(str(part) for part in loc) or "(item)"
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        raise InvalidInput(
            f"{reader.filename} line {reader.line(path + loc)}: {section.key}[{index}].{key}: "
            f"{message}.",
            code="invalid_config",
        ) from None
    if getattr(data, "code", None) is None:
        raise InvalidInput(
            f"{reader.filename} line {reader.line(path)}: {section.key}[{index}]: code is "
            "required.",
            code="invalid_config",
        )
    return Entry(reader.filename, reader.line(path), index, data)


def load(
    session: Session,
    files: list[tuple[str, str]],
    *,
    province_code: str,
    update: bool = False,
) -> LoadReport:
    """Load ``files`` (name, text); the caller commits. Nothing is stored if any file is bad."""
    parsed = [read_file(text, name) for name, text in files]
    report = LoadReport()
    names = ", ".join(name for name, _ in files)
    with bulk(session, f"indicator configuration: {names}"):
        for section in SECTIONS:
            for entries in parsed:
                for entry in entries[section.key]:
                    _apply(session, section, entry, province_code, update, report)
    return report


def _apply(
    session: Session,
    section: Section,
    entry: Entry,
    province_code: str,
    update: bool,
    report: LoadReport,
) -> None:
    code = entry.data.code
    column = section.model.__table__.c["code"]
    existing = session.scalar(select(section.model).where(column == code))
    if existing is not None and not update:
        report.count(report.kept, section.key)
        return
    try:
        SAVERS[section.key](session, entry.data, existing, province_code)
    except DieuhanhError as exc:
        raise InvalidInput(
            f"{entry.where(section.key)} ({code}): {exc.message}",
            code=exc.code,
            details=exc.details,
        ) from None
    report.count(report.updated if existing is not None else report.created, section.key)


Saver = Callable[[Session, Any, Any, str], Any]
SAVERS: dict[str, Saver] = {
    "disaggregations": lambda s, data, old, _: metadata.save_disaggregation(s, data, old),
    "constants": lambda s, data, old, _: metadata.save_constant(s, data, old),
    "dataElements": lambda s, data, old, _: metadata.save_element(s, data, old),
    "forms": lambda s, data, old, province: forms.save_form(s, data, province, old),
    "indicators": lambda s, data, old, _: metadata.save_indicator(s, data, old),
    "validationRules": lambda s, data, old, _: forms.save_validation_rule(s, data, old),
}


def shipped_files() -> list[tuple[str, str]]:
    """The configuration shipped with DieuHanh: (file name, text), in name order."""
    folder = resources.files(SHIPPED_PACKAGE).joinpath(SHIPPED_FOLDER)
    found = [item for item in folder.iterdir() if item.name.endswith(".yaml")]
    return [
        (item.name, item.read_text(encoding="utf-8"))
        for item in sorted(found, key=lambda i: i.name)
    ]


def digest(files: list[tuple[str, str]]) -> str:
    hasher = hashlib.sha256()
    for name, text in files:
        hasher.update(name.encode() + b"\0" + text.encode() + b"\0")
    return hasher.hexdigest()
