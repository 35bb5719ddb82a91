"""A rule tried on the past ("what would it have raised last quarter?") before it is switched on:
the events kept in the log replayed, in order and at their own times, through the same engine
with its memory in a dict. Nothing is stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.alerts.engine import CompiledRule, Decision, DictMemory, RuleEngine
from dieuhanh.alerts.rules import check_rule
from dieuhanh.core.events import EventRecord, TopicRegistry

MAX_EVENTS = 500_000  # a replay reads at most this many events (bounded time and memory)
MAX_LISTED = 1000


class WouldRaise(BaseModel):
    subject: str
    unit_code: str | None
    title: str
    raised_at: datetime
    cleared_at: datetime | None
    flapping: bool


class BacktestResult(BaseModel):
    rule: str
    start: datetime
    end: datetime
    events_read: int
    truncated: bool  # more events than MAX_EVENTS: the replay stopped early
    raised: int
    alerts: list[WouldRaise]


def backtest(
    session: Session, raw: Any, topics: TopicRegistry, start: datetime, end: datetime
) -> BacktestResult:
    spec = check_rule(raw, topics)
    rule = CompiledRule.build(0, spec)
    engine = RuleEngine([rule])
    memory = DictMemory()
    open_ones: dict[str, WouldRaise] = {}
    listed: list[WouldRaise] = []
    raised = read = 0
    query = (
        select(EventRecord.topic, EventRecord.payload, EventRecord.at)
        .where(EventRecord.topic.in_(spec.topics), EventRecord.at >= start, EventRecord.at < end)
        .order_by(EventRecord.id)
        .limit(MAX_EVENTS + 1)
        .execution_options(yield_per=2000)
    )

    def record(decision: Decision) -> None:
        nonlocal raised
        if decision.action == "raise":
            raised += 1
            would = WouldRaise(
                subject=decision.subject, unit_code=decision.unit_code,
                title=rule.title_of(decision.context), raised_at=decision.at, cleared_at=None,
                flapping=decision.flapping,
            )  # fmt: skip
            open_ones[decision.subject] = would
            if len(listed) < MAX_LISTED:
                listed.append(would)
        elif decision.action == "clear" and decision.subject in open_ones:
            open_ones.pop(decision.subject).cleared_at = decision.at

    for topic, payload, at in session.execute(query):
        read += 1
        if read > MAX_EVENTS:
            break
        for decision in [*engine.due(at, memory), *engine.evaluate(topic, payload, at, memory)]:
            record(decision)
    for decision in engine.due(end, memory):
        record(decision)
    return BacktestResult(rule=spec.code, start=start, end=end, events_read=min(read, MAX_EVENTS),
                          truncated=read > MAX_EVENTS, raised=raised, alerts=listed)  # fmt: skip
