"""Alert rules as people write them (YAML or JSON), checked against the declared topics.

    - code: camera_dead
      name: Camera mất tín hiệu
      topic: camera.state_changed       # the topic(s) it listens to (one, or a list; the
                                        # conditions may test `topic` itself)
      when: state == 'dead'             # raises when this holds...
      clear: state == 'live'            # ...and clears when this does (default: not `when`)
      subject: "camera:{camera_id}"     # one alert per rule × subject (default: the unit)
      unit: unit_code                   # the payload field naming the unit (default: unit_code
                                        # or unit, if the event has one; else the province)
      title: "Camera {name} mất tín hiệu ({reason})"
      for: 10m                          # only if it still holds 10 minutes later
      times: 1                          # ...and after this many matching events in a row
      within: 1h                        # (or: that many within this window, e.g. a surge)
      severity: major                   # critical, major, minor, warning, info
      units: [DNA_26734]                # the units it applies to (default: all)
      notify: [operator]                # usernames, besides everyone whose settings want it
      auto_resolve: true                # resolve when `clear` holds
      flap_minutes: 30                  # raised again within this after clearing: same alert

Every error names the rule and the key (``rules[2].when: unknown field 'stat' (at column 1)``).
"""

from __future__ import annotations

import re
import string
from datetime import timedelta
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dieuhanh.alerts.expressions import ExpressionError, compile_condition
from dieuhanh.alerts.models import Severity
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.events import TopicRegistry, UnknownTopic

MAX_RULES_TEXT = 1_000_000
_DURATION = re.compile(r"^\s*(\d{1,6})\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str | int | None) -> timedelta:
    """'30m', '2h', '1d', '45s' (or a number of seconds)."""
    if text is None or text == "" or text == 0:
        return timedelta(0)
    if isinstance(text, int) and not isinstance(text, bool) and text >= 0:
        return timedelta(seconds=text)
    found = _DURATION.match(str(text))
    if not found:
        raise ValueError(f"'{text}' is not a duration such as 30s, 10m, 2h or 1d")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,59}$")
    name: str = Field(min_length=1, max_length=200)
    topic: (
        Annotated[str, Field(min_length=1, max_length=60)]
        | Annotated[list[Annotated[str, Field(max_length=60)]], Field(min_length=1, max_length=20)]
    )
    when: str = Field(min_length=1, max_length=1000)
    clear: str | None = Field(default=None, max_length=1000)
    subject: str | None = Field(default=None, min_length=1, max_length=200)
    unit: str | None = Field(default=None, max_length=60)
    title: str | None = Field(default=None, max_length=300)
    pending: str | int | None = Field(default=None, alias="for")
    times: int = Field(default=1, ge=1, le=1000)
    within: str | int | None = None
    severity: Severity = Severity.WARNING
    units: list[str] | None = Field(default=None, max_length=200)
    notify: list[str] = Field(default_factory=list, max_length=50)
    auto_resolve: bool = True
    flap_minutes: int = Field(default=30, ge=0, le=10_080)
    enabled: bool = True
    scenario: str | None = Field(default=None, max_length=60)

    @field_validator("pending", "within")
    @classmethod
    def _duration(cls, value: str | int | None) -> str | int | None:
        parse_duration(value)
        return value

    @property
    def pending_for(self) -> timedelta:
        return parse_duration(self.pending)

    @property
    def window(self) -> timedelta | None:
        return parse_duration(self.within) if self.within else None

    @property
    def topics(self) -> list[str]:
        return [self.topic] if isinstance(self.topic, str) else list(self.topic)

    def definition(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def template_fields(template: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(template) if name]
    except ValueError as exc:
        raise ValueError(
            f"'{template}' is not a template such as 'camera:{{camera_id}}': {exc}"
        ) from None


def check_rule(raw: Any, topics: TopicRegistry, where: str = "rule") -> RuleSpec:
    """A rule checked against the topics: its keys, its conditions, its templates."""
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: a rule is a mapping of keys (code, name, topic, when...)",
                           code="invalid_rule")  # fmt: skip
    try:
        spec = RuleSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"{where}.{key}: {first['msg']}", code="invalid_rule") from None
    where = f"{where} '{spec.code}'"
    fields: set[str] | None = None
    for name in spec.topics:
        try:
            topic = topics.get(name)
        except UnknownTopic as exc:
            raise InvalidInput(f"{where}.topic: {exc}", code="invalid_rule") from None
        own = set(topic.schema.model_fields)
        fields = own if fields is None else fields & own  # what every topic's events carry
    if fields is None:
        raise InvalidInput(f"{where}.topic: name at least one topic", code="invalid_rule")
    fields.add("topic")
    for key in ("when", "clear"):
        text = getattr(spec, key)
        if text is None:
            continue
        try:
            compile_condition(text, fields)
        except ExpressionError as exc:
            raise InvalidInput(f"{where}.{key}: {exc}", code="invalid_rule") from None
    for key in ("subject", "title"):
        template = getattr(spec, key)
        if template is None:
            continue
        try:
            unknown = [name for name in template_fields(template) if name not in fields]
        except ValueError as exc:
            raise InvalidInput(f"{where}.{key}: {exc}", code="invalid_rule") from None
        if unknown:
            raise InvalidInput(f"{where}.{key}: unknown field '{unknown[0]}'; the event has: "
                               f"{', '.join(sorted(fields))}", code="invalid_rule")  # fmt: skip
    if spec.unit is not None and spec.unit not in fields:
        raise InvalidInput(f"{where}.unit: the event has no field '{spec.unit}'; it has: "
                           f"{', '.join(sorted(fields))}", code="invalid_rule")  # fmt: skip
    return spec


def parse_rules(text: str, topics: TopicRegistry) -> list[RuleSpec]:
    """Rules from YAML (a list, or a mapping with a ``rules`` list); errors carry the line."""
    if len(text) > MAX_RULES_TEXT:
        raise InvalidInput(f"rules: longer than {MAX_RULES_TEXT} characters", code="invalid_rule")
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(f"rules: not valid YAML: {problem}{at}", code="invalid_rule") from None
    if isinstance(loaded, dict) and "rules" in loaded:
        loaded = loaded["rules"]
    if not isinstance(loaded, list):
        raise InvalidInput("rules: expected a list of rules", code="invalid_rule")
    specs = [check_rule(raw, topics, f"rules[{index}]") for index, raw in enumerate(loaded)]
    codes = [spec.code for spec in specs]
    twice = sorted({code for code in codes if codes.count(code) > 1})
    if twice:
        raise InvalidInput(f"rules: the code '{twice[0]}' is used twice", code="invalid_rule")
    return specs
