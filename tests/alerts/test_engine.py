"""The rule engine on a fake clock: each rule kind raises once and clears once, pending periods,
repeat counts, windows, flapping, unit filters; conditions refused with their position."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest
import yaml

from dieuhanh.alerts.engine import CompiledRule, DictMemory, RuleEngine
from dieuhanh.alerts.expressions import ExpressionError, compile_condition
from dieuhanh.alerts.rules import RuleSpec, parse_duration

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
CAMERA = "camera.state_changed"


def engine_with(**rule: Any) -> RuleEngine:
    base: dict[str, Any] = {"code": "camera_dead", "name": "Camera mất tín hiệu", "topic": CAMERA,
                            "when": "state == 'dead'", "clear": "state == 'live'",
                            "subject": "camera:{camera_id}"}  # fmt: skip
    spec = RuleSpec.model_validate({**base, **rule})
    return RuleEngine([CompiledRule.build(1, spec)])


def camera(state: str, camera_id: int = 7, unit: str = "26734") -> dict[str, Any]:
    return {"camera_id": camera_id, "name": f"Cổng UBND {camera_id}", "unit_code": unit,
            "state": state, "reason": "timeout" if state == "dead" else None}  # fmt: skip


def run(engine: RuleEngine, memory: DictMemory, steps: list[tuple[int, str]]) -> list[str]:
    """(minute, state) events, with a tick each minute in between; the actions seen, with their
    minute: ["raise@5", "clear@9"]."""
    seen: list[str] = []
    last = max(minute for minute, _ in steps) + 60
    by_minute = dict(steps)
    for minute in range(last + 1):
        now = T0 + timedelta(minutes=minute)
        decisions = engine.due(now, memory)
        if minute in by_minute:
            decisions += engine.evaluate(CAMERA, camera(by_minute[minute]), now, memory)
        seen += [f"{d.action}@{int((d.at - T0).total_seconds() // 60)}" for d in decisions
                 if d.action != "seen"]  # fmt: skip
    return seen


def test_an_event_rule_raises_once_and_clears_once() -> None:
    engine, memory = engine_with(), DictMemory()
    assert run(engine, memory, [(0, "dead"), (1, "dead"), (2, "dead"), (9, "live"),
                                (10, "live")]) == ["raise@0", "clear@9"]  # fmt: skip


def test_a_pending_period_raises_only_if_it_still_holds() -> None:
    engine = engine_with(**{"for": "5m"})
    assert run(engine, DictMemory(), [(0, "dead"), (3, "live")]) == []
    assert run(engine, DictMemory(), [(0, "dead"), (20, "live")]) == ["raise@5", "clear@20"]


def test_the_tick_that_notices_late_still_dates_the_alert_when_it_was_due() -> None:
    engine, memory = engine_with(**{"for": "5m"}), DictMemory()
    engine.evaluate(CAMERA, camera("dead"), T0, memory)
    (decision,) = engine.due(T0 + timedelta(minutes=17), memory)
    assert decision.action == "raise" and decision.at == T0 + timedelta(minutes=5)


def test_a_repeat_count_needs_that_many_in_a_row() -> None:
    engine = engine_with(times=3)
    steps = [(0, "dead"), (1, "dead"), (2, "live"), (3, "dead"), (4, "dead"), (5, "dead"),
             (6, "dead"), (8, "live")]  # fmt: skip
    assert run(engine, DictMemory(), steps) == ["raise@5", "clear@8"]


def test_times_within_a_window_counts_a_surge() -> None:
    engine = engine_with(times=3, within="10m", clear=None, when="True")
    memory = DictMemory()
    hits = [engine.evaluate(CAMERA, camera("dead"), T0 + timedelta(minutes=m), memory)
            for m in (0, 8, 15, 16, 17)]  # fmt: skip
    # 0 and 8 start a window that closes at 10; 15, 16, 17 are three within ten minutes.
    assert [[d.action for d in found] for found in hits] == [[], [], [], [], ["raise"]]


def test_flapping_reopens_the_same_alert_and_resolves_once_it_stays_clear() -> None:
    engine = engine_with(flap_minutes=30)
    memory = DictMemory()
    steps = [(0, "dead"), (2, "live"), (4, "dead"), (6, "live"), (8, "dead"), (10, "live")]
    seen = run(engine, memory, steps)
    # Raised, cleared, then back within 30 minutes: flapping, the same alert reopened; from then
    # on it stays up through the flapping and resolves 30 minutes after the last clearing.
    assert seen == ["raise@0", "clear@2", "raise@4", "clear@40"]
    flags = []
    memory2 = DictMemory()
    for minute, state in steps[:3]:
        flags += [
            d.flapping
            for d in engine.evaluate(CAMERA, camera(state), T0 + timedelta(minutes=minute), memory2)
        ]
    assert flags == [False, False, True]


def test_one_rule_many_subjects_and_units() -> None:
    engine = engine_with(units=["26734"])
    memory = DictMemory()
    raised = [
        d for n in range(1, 4) for d in engine.evaluate(CAMERA, camera("dead", n), T0, memory)
    ]
    assert [d.subject for d in raised] == ["camera:1", "camera:2", "camera:3"]
    elsewhere = engine.evaluate(CAMERA, camera("dead", 9, unit="26737"), T0, memory)
    assert elsewhere == []


def test_a_rule_on_several_topics_tests_the_topic() -> None:
    spec = RuleSpec.model_validate({
        "code": "overdue", "name": "Quá hạn", "topic": ["citizen_report.overdue",
                                                        "citizen_report.resolved"],
        "when": "topic == 'citizen_report.overdue'", "clear": "topic == 'citizen_report.resolved'",
        "subject": "report:{code}"})  # fmt: skip
    engine, memory = RuleEngine([CompiledRule.build(1, spec)]), DictMemory()
    report = {"code": "PA-1", "unit": "26734", "status": "accepted"}
    (up,) = engine.evaluate("citizen_report.overdue", report, T0, memory)
    (down,) = engine.evaluate("citizen_report.resolved", {**report, "status": "resolved"}, T0,
                              memory)  # fmt: skip
    assert (up.action, up.unit_code, down.action) == ("raise", "26734", "clear")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("state == ", "syntax error"),
        ("state.__class__", "'Attribute' is not allowed"),
        ("__import__('os')", "only these functions"),
        ("[x for x in state]", "'ListComp' is not allowed"),
        ("stat == 'dead'", "unknown field 'stat'"),
        ("x" * 1001, "longer than 1000"),
        ("", "empty"),
    ],
)
def test_a_bad_condition_is_refused_with_where(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message) as caught:
        compile_condition(text, {"state", "reason"})
    if "syntax" in message or "unknown" in message or "allowed" in message:
        assert caught.value.column is not None and "at column" in str(caught.value)


def test_a_condition_over_missing_or_odd_values_is_false_not_an_error() -> None:
    condition = compile_condition("value > 3 and lower(name) == 'a'")
    assert condition({"value": 4, "name": "A"}) is True
    assert condition({"value": None, "name": "A"}) is False  # None > 3: TypeError → False
    assert condition({"name": "A"}) is False  # no value
    assert compile_condition("1 / value > 0")({"value": 0}) is False


def test_durations() -> None:
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration(90) == timedelta(seconds=90)
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


def test_the_shipped_late_report_rules_keep_one_alert_per_report() -> None:
    """Overdue (minor), then escalated (major): the escalation clears the overdue alert as it
    raises its own; resolving the report clears that one."""
    shipped = yaml.safe_load(
        resources.files("dieuhanh.alerts").joinpath("rules.yaml").read_text("utf-8")
    )
    codes = ("citizen_report_overdue", "citizen_report_escalated")
    specs = [RuleSpec.model_validate(item) for item in shipped if item["code"] in codes]
    engine = RuleEngine([CompiledRule.build(n, spec) for n, spec in enumerate(specs, start=1)])
    memory, report = DictMemory(), {"code": "PA2026-000001", "unit": "26734", "status": "new"}
    seen = []
    for hour, step in enumerate(("overdue", "escalated", "resolved")):
        topic = f"citizen_report.{step}"
        decisions = engine.evaluate(topic, report, T0 + timedelta(hours=hour), memory)
        seen.append(sorted(f"{d.action}:{d.rule.code}" for d in decisions))
    assert seen == [
        ["raise:citizen_report_overdue"],
        ["clear:citizen_report_overdue", "raise:citizen_report_escalated"],
        ["clear:citizen_report_escalated"],
    ]
