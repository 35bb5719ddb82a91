"""Revision 0022: the shipped rule ``citizen_report_overdue`` also clears when the report
escalates — on an installation where it is still as shipped (or saved unchanged on the rules
page); one an administrator changed is left as it is. Downgrading puts the old one back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text

from dieuhanh.alerts.rules import RuleSpec
from dieuhanh.core.db import migrate
from dieuhanh.core.runtime import Runtime

SHIPPED_BEFORE = {
    "code": "citizen_report_overdue",
    "name": "Phản ánh quá hạn xử lý",
    "topic": ["citizen_report.overdue", "citizen_report.resolved"],
    "when": "topic == 'citizen_report.overdue'",
    "clear": "topic == 'citizen_report.resolved'",
    "subject": "report:{code}",
    "title": "Phản ánh {code} ({category_name}) quá hạn tại {unit_name}",
    "severity": "minor",
}
NEW_TOPICS = ["citizen_report.overdue", "citizen_report.escalated", "citizen_report.resolved"]
NEW_CLEAR = "topic in ('citizen_report.escalated', 'citizen_report.resolved')"
# What the rules page stores for the same rule, saved unchanged: its defaults spelled out.
SAVED_ON_THE_PAGE = RuleSpec.model_validate(SHIPPED_BEFORE).definition()


def at_0021_with(engine: Engine, definition: dict[str, Any]) -> None:
    """An installation at 0021 whose rule reads ``definition`` (its columns to match)."""
    migrate.upgrade(engine, "0021")
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE alert_rules SET definition = :definition, severity = :severity, "
                 "enabled = :enabled WHERE code = 'citizen_report_overdue'"),
            {"definition": json.dumps(definition, ensure_ascii=False),
             "severity": definition["severity"], "enabled": definition.get("enabled", True)},
        )  # fmt: skip


def rule(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        value = connection.execute(
            text("SELECT definition FROM alert_rules WHERE code = 'citizen_report_overdue'")
        ).scalar_one()
    return value if isinstance(value, dict) else json.loads(value)


@pytest.mark.parametrize("stored", [SHIPPED_BEFORE, SAVED_ON_THE_PAGE], ids=["yaml", "page"])
def test_the_shipped_rule_clears_on_escalation_and_comes_back_on_downgrade(
    empty_database_url: str, make_runtime: Callable[..., Runtime], stored: dict[str, Any]
) -> None:
    engine = make_runtime(empty_database_url).engine
    at_0021_with(engine, stored)
    migrate.upgrade(engine)
    upgraded = rule(engine)
    assert (upgraded["topic"], upgraded["clear"]) == (NEW_TOPICS, NEW_CLEAR)
    assert upgraded["when"] == SHIPPED_BEFORE["when"] and upgraded["severity"] == "minor"
    migrate.upgrade(engine, "head")  # again: nothing more
    assert rule(engine) == upgraded
    command.downgrade(migrate.alembic_config(engine), "0021")
    assert rule(engine) == SHIPPED_BEFORE


@pytest.mark.parametrize(
    "changed",
    [
        {**SHIPPED_BEFORE, "title": "Quá hạn: {code}", "severity": "major",
         "notify": ["truc.ban"]},
        {**SAVED_ON_THE_PAGE, "enabled": False},
        {**SHIPPED_BEFORE, "when": "topic == 'citizen_report.overdue' and not urgent"},
    ],
    ids=["title-severity-notify", "switched-off", "condition"],
)  # fmt: skip
def test_a_rule_an_administrator_changed_is_left_alone(
    empty_database_url: str, make_runtime: Callable[..., Runtime], changed: dict[str, Any]
) -> None:
    engine = make_runtime(empty_database_url).engine
    at_0021_with(engine, changed)
    migrate.upgrade(engine)
    assert rule(engine) == changed


def test_a_new_installation_has_the_new_rule(
    empty_database_url: str, make_runtime: Callable[..., Runtime]
) -> None:
    engine = make_runtime(empty_database_url).engine
    migrate.upgrade(engine)
    assert (rule(engine)["topic"], rule(engine)["clear"]) == (NEW_TOPICS, NEW_CLEAR)
