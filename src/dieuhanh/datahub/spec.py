"""A source as configuration: what `POST /api/v1/sources` and the YAML file declare.

Validated when loaded, with errors that name the key (``config.client.paginator.type: 'pages'
is not one of page_number, offset, …``), so a person fixes the file without reading code. The
kind-specific ``config`` is checked by the connector of that kind (:mod:`.connectors`).
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dieuhanh.core.errors import InvalidInput

CODE = re.compile(r"[a-z][a-z0-9_]{1,59}")
SENT_TO = frozenset({"upload", "push"})  # kinds that receive data rather than fetch it


class Freshness(BaseModel):
    """How fresh a source must be: at most ``max_age_minutes`` old, or a success each day by
    ``daily_by`` (local time, e.g. "17:00")."""

    model_config = ConfigDict(extra="forbid")

    max_age_minutes: int | None = Field(default=None, gt=0, le=60 * 24 * 366)
    daily_by: time | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> Freshness:
        if (self.max_age_minutes is None) == (self.daily_by is None):
            raise ValueError('give exactly one of max_age_minutes or daily_by (e.g. "17:00")')
        return self

    def due_after(self, now_local: datetime) -> datetime:
        """The oldest success that still counts as fresh at ``now_local`` (a local time)."""
        if self.max_age_minutes is not None:
            return now_local - timedelta(minutes=self.max_age_minutes)
        assert self.daily_by is not None
        # The last deadline that passed needed a success since the one before it: at 16:00 a
        # success of yesterday 09:00 is fresh; at 17:01 only one after yesterday 17:00 is.
        deadline = datetime.combine(now_local.date(), self.daily_by, now_local.tzinfo)
        if now_local < deadline:
            deadline -= timedelta(days=1)
        return deadline - timedelta(days=1)

    def describe(self) -> str:
        if self.max_age_minutes is not None:
            return f"at most {self.max_age_minutes} min old"
        assert self.daily_by is not None
        return f"synced daily by {self.daily_by.strftime('%H:%M')}"


class SourceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="Short unique name, e.g. `igate_dossiers`.")
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(description="Connector kind, e.g. `rest_api`.")
    config: dict[str, Any] = Field(default_factory=dict)
    schedule: str | None = Field(
        default=None, description="Cron expression (local time), e.g. `*/15 * * * *`."
    )
    freshness: Freshness | None = None
    enabled: bool = True

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not CODE.fullmatch(value):
            raise ValueError("must be 2–60 lower-case letters, digits or _ starting with a letter")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression like '*/15 * * * *'")
        return value.strip()

    def next_run_after(self, moment: datetime) -> datetime | None:
        """The next scheduled start after ``moment`` (aware, in the province's zone)."""
        if self.schedule is None:
            return None
        following: datetime = croniter(self.schedule, moment).get_next(datetime)
        return following


def parse_spec(data: Any, where: str = "") -> SourceSpec:
    """A source from JSON/YAML data, its kind's config checked too; InvalidInput names the key."""
    from dieuhanh.datahub.connectors import connector_for  # the registry imports connectors

    try:
        spec = SourceSpec.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe_errors(exc, where), code="invalid_source") from None
    connector_for(spec.kind).check(spec.config, where=f"{where}config")
    if spec.kind in SENT_TO and spec.schedule:
        raise InvalidInput(
            f"{where}schedule: a {spec.kind} source runs when data is sent to it; leave it empty",
            code="invalid_source",
        )
    return spec


def describe_errors(exc: ValidationError, where: str = "") -> str:
    """``a.b[2].c: message; …`` — the key of each problem as a person writes it in YAML."""
    problems = []
    for error in exc.errors()[:10]:
        key = where + _key(error["loc"])
        problems.append(f"{key}: {error['msg']}" if key else error["msg"])
    return "; ".join(problems)


def _key(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        elif part not in {"function-after", "function-before"} and "[" not in str(part):
            key += ("." if key else "") + str(part)
    return key


def load_file(path: Path) -> list[SourceSpec]:
    """Every source of a YAML file (a list, or ``{sources: [...]}``); the first error stops."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"{path}: {exc}", code="invalid_source") from None
    if isinstance(data, dict) and "sources" in data:
        data = data["sources"]
    if not isinstance(data, list):
        raise InvalidInput(f"{path}: expected a list of sources", code="invalid_source")
    specs = [
        parse_spec(item, where=f"{path}: sources[{index}].") for index, item in enumerate(data)
    ]
    codes = [spec.code for spec in specs]
    for code in codes:
        if codes.count(code) > 1:
            raise InvalidInput(f"{path}: source {code!r} is declared twice", code="invalid_source")
    return specs
