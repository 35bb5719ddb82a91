"""Operating scenarios (kịch bản điều hành): a named response to a kind of situation — the rules
that trigger it, the directive it issues (to the alert's unit, to named units, or to all), with
which deadline, and the indicators to watch. Shipped in ``scenarios.yaml``; validated at load.

The subscriber ``alerts.scenarios`` reads ``alert.raised``: when an automatic scenario's rule
raised the alert, the directive goes out at once, linked to the alert, issued in the
province's name by the scenario. One directive per alert: a restart cannot send it twice
(the subscriber's cursor and the directive commit together)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from dieuhanh.alerts import topics
from dieuhanh.alerts.directives import DirectiveIn, issue
from dieuhanh.alerts.models import Alert, Directive
from dieuhanh.core.access import Principal, Role
from dieuhanh.core.config import Settings
from dieuhanh.core.errors import NotFound
from dieuhanh.core.events import EventRecord, Subscription
from dieuhanh.core.runtime import Runtime
from dieuhanh.units.service import get_unit

SUBSCRIBER = "alerts.scenarios"


class DirectiveTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    body: str = Field(default="", max_length=8000)
    priority: Literal["normal", "urgent", "flash"] = "normal"
    deadline_hours: float = Field(gt=0, le=24 * 90)
    to: Literal["alert_unit", "all"] | list[str] = "alert_unit"


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,59}$")
    name: str = Field(min_length=1, max_length=200)
    rules: list[str] = Field(default_factory=list)
    auto: bool = False
    directive: DirectiveTemplate
    watch: list[str] = Field(default_factory=list)


@lru_cache(maxsize=1)
def shipped() -> tuple[Scenario, ...]:
    text = resources.files("dieuhanh.alerts").joinpath("scenarios.yaml").read_text("utf-8")
    return tuple(Scenario.model_validate(item) for item in yaml.safe_load(text))


def find(code: str) -> Scenario:
    for scenario in shipped():
        if scenario.code == code:
            return scenario
    raise NotFound(f"No scenario '{code[:60]}'.", code="scenario_not_found")


def province_principal(session: Session, settings: Settings, name: str) -> Principal:
    """The province, acting through a scenario (no person's account)."""
    province = get_unit(session, settings.province_code)
    return Principal(user_id=0, username=name, full_name=name, role=Role.PROVINCE_OPERATOR,
                     unit_id=province.id, unit_code=province.code, unit_name=province.name,
                     own_units=None, via="scenario")  # fmt: skip


def run(
    session: Session, settings: Settings, principal: Principal, scenario: Scenario,
    unit_codes: list[str], now: datetime, *, alert: Alert | None = None,
    unit_name: str | None = None,
) -> Directive:  # fmt: skip
    template = scenario.directive
    fields: dict[str, Any] = {"unit_name": unit_name or "các đơn vị"}
    body = DirectiveIn(
        title=template.title.format_map(fields)[:300], body=template.body,
        priority=template.priority, deadline=now + timedelta(hours=template.deadline_hours),
        unit_codes=unit_codes, all_units=template.to == "all" and not unit_codes,
        watch=scenario.watch,
    )  # fmt: skip
    return issue(session, settings, principal, body, now, scenario=scenario.code,
                 alert_id=alert.id if alert is not None else None)  # fmt: skip


def subscriptions(runtime: Runtime) -> list[Subscription]:
    def handle(session: Session, event: EventRecord) -> None:
        payload = event.payload
        if payload.get("action") != "raised" or not payload.get("rule"):
            return  # a reopened (flapping) alert has had its directive
        for scenario in shipped():
            if not scenario.auto or payload["rule"] not in scenario.rules:
                continue
            template = scenario.directive
            if template.to == "alert_unit":
                if not payload.get("unit_code"):
                    continue  # a province-wide alert: nobody below to direct
                units = [payload["unit_code"]]
            elif template.to == "all":
                units = []
            else:
                units = list(template.to)
            alert = session.get(Alert, payload["id"])
            principal = province_principal(session, runtime.settings, f"scenario:{scenario.code}")
            run(session, runtime.settings, principal, scenario, units, event.at, alert=alert,
                unit_name=payload.get("unit_name"))  # fmt: skip

    return [Subscription(SUBSCRIBER, (topics.RAISED,), handle)]
