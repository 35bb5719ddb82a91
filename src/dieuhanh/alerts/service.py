"""Alerts in the database: decisions turned into alerts (one active per rule × subject),
people's steps on them, and the rules themselves. What the rules decide with, loaded per batch,
is in ``memory``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.alerts import topics
from dieuhanh.alerts.engine import Decision, Touched
from dieuhanh.alerts.memory import Batch, UnitCodes
from dieuhanh.alerts.models import Alert, AlertNote, AlertRule, AlertState, RuleSubject, Severity
from dieuhanh.alerts.rules import RuleSpec, check_rule
from dieuhanh.core.access import Permission, Principal, authorize, require
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import Conflict, InvalidInput, NotFound
from dieuhanh.core.events import TopicRegistry, publish
from dieuhanh.units.models import Unit
from dieuhanh.units.service import find_unit

MAX_TEXT = 4000


# --- decisions into alerts --------------------------------------------------------------------


def apply(session: Session, decisions: Iterable[Decision], batch: Batch) -> None:
    """Raise, refresh or resolve the alerts the decisions name."""
    for decision in decisions:
        key = f"{decision.rule.code}|{decision.subject}"
        active = batch.active.get(key)
        if decision.action == "clear":
            if active is not None and decision.rule.spec.auto_resolve:
                _resolve(session, active, "rule", decision.at, "the condition cleared", batch)
                batch.active.put(key, None)
            continue
        if active is not None:  # seen again while up (or raised while up: memory was lost)
            active.occurrences += 1
            active.last_seen_at = decision.at
            continue
        if decision.action == "seen":
            continue
        alert = _reopen(session, decision, key, batch) if decision.flapping else None
        if alert is None:
            alert = _open(session, decision, key, batch)
        batch.active.put(key, alert)


def _open(session: Session, decision: Decision, key: str, batch: Batch) -> Alert:
    rule, units = decision.rule, batch.units
    alert = Alert(
        rule_id=rule.id, rule_code=rule.code, subject=decision.subject, active_key=key,
        unit_id=units.id_of(decision.unit_code), severity=rule.spec.severity,
        state=AlertState.OPEN, title=rule.title_of(decision.context),
        detail=rule.spec.name, source_topic=", ".join(rule.spec.topics)[:60],
        context=_small(decision.context),
        opened_at=decision.at, last_seen_at=decision.at, occurrences=1, flaps=0,
    )  # fmt: skip
    session.add(alert)
    _tell(session, alert, topics.RAISED, "rule", "raised", None, decision.at, batch)
    return alert


def _reopen(session: Session, decision: Decision, key: str, batch: Batch) -> Alert | None:
    """Flapping: the last alert of this rule × subject comes back instead of a new one."""
    alert = session.scalar(
        select(Alert)
        .where(Alert.rule_code == decision.rule.code, Alert.subject == decision.subject)
        .order_by(Alert.id.desc())
        .limit(1)
    )
    if alert is None or alert.state != AlertState.RESOLVED:
        return None
    alert.state, alert.active_key, alert.resolved_at, alert.resolved_by = (
        AlertState.OPEN, key, None, None)  # fmt: skip
    alert.flaps += 1
    alert.occurrences += 1
    alert.last_seen_at = decision.at
    _tell(session, alert, topics.RAISED, "rule", "reopened", "flapping", decision.at, batch)
    return alert


def _resolve(
    session: Session, alert: Alert, by: str, at: datetime, why: str | None,
    batch: Batch | None = None,
) -> None:  # fmt: skip
    if alert.id is None:  # raised earlier in this batch: written first, so audited as before
        session.flush()
    alert.state, alert.active_key, alert.resolved_at, alert.resolved_by = (
        AlertState.RESOLVED, None, at, by)  # fmt: skip
    _tell(session, alert, topics.RESOLVED, by, "resolved", why, at, batch)


def _tell(
    session: Session, alert: Alert, topic: str, by: str, action: str, text: str | None,
    at: datetime, batch: Batch | None,
) -> None:  # fmt: skip
    """The alert's note and event: now, or when the batch deciding at once writes them."""
    if batch is None or batch.told is None:
        if alert.id is None:
            session.flush()
        _note(session, alert, by, action, text, at)
        _announce(session, topic, alert, action, by, at, batch.units if batch else None)
        return
    code, name = batch.units.label(alert.unit_id)
    event = topics.payload(alert, code, name, action, by, at, alert_id=alert.id or 0)
    batch.told.append((alert, event, topic, by, action, text, at))


def _write_told(session: Session, batch: Batch) -> None:
    """The notes and events of a batch decided at once, after one flush wrote its new alerts."""
    if not batch.told:
        return
    session.flush()
    for alert, event, topic, by, action, text, at in batch.told:
        _note(session, alert, by, action, text, at)
        publish(session, topic, event.model_copy(update={"id": alert.id}),
                unit_id=alert.unit_id)  # fmt: skip
    batch.told = []


def _forget(session: Session, alert: Alert) -> None:
    """A person resolved it: its rule starts afresh for this subject (the next time the
    condition holds, a new alert), rather than staying silent until the condition clears."""
    if alert.rule_id is None:
        return
    memory = session.get(RuleSubject, (alert.rule_id, alert.subject))
    if memory is not None:
        memory.holds, memory.since, memory.streak, memory.raised = False, None, 0, False
        memory.clear_since, memory.flaps = None, 0


def _announce(
    session: Session, topic: str, alert: Alert, action: str, by: str, at: datetime,
    units: UnitCodes | None = None,
) -> None:  # fmt: skip
    code, name = (units or UnitCodes(session)).label(alert.unit_id)
    publish(session, topic, topics.payload(alert, code, name, action, by, at),
            unit_id=alert.unit_id)  # fmt: skip


def _note(
    session: Session, alert: Alert, actor: str, action: str, text: str | None, at: datetime
) -> None:
    session.add(AlertNote(alert_id=alert.id, at=at, actor=actor, action=action, text=text))


def _small(context: dict[str, Any]) -> dict[str, Any]:
    """What of the event is kept with the alert: its fields, long values cut."""
    return {
        key: (value[:500] if isinstance(value, str) else value)
        for key, value in list(context.items())[:40]
        if isinstance(value, str | int | float | bool) or value is None
    }


# --- people's steps ---------------------------------------------------------------------------


@dataclass
class AlertStep:
    action: str  # acknowledge, assign, comment, resolve
    text: str | None = None
    assignee: str | None = None


def get_alert(session: Session, principal: Principal, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"No alert #{alert_id}.", code="alert_not_found")
    authorize(principal, "read", alert.unit_id, _unit_name(session, alert.unit_id))
    return alert


def known_unit(session: Session, code: str, field: str) -> Unit:
    """The unit with this code (as ``units.service.find_unit`` reads codes), or a 422 naming
    the field."""
    unit = find_unit(session, code[:32])
    if unit is None:
        raise InvalidInput(f"{field}: no unit '{code[:40]}'.", code="unknown_unit")
    return unit


def _unit_name(session: Session, unit_id: int | None) -> str:
    if unit_id is None:
        return "the province"
    return session.scalar(select(Unit.name).where(Unit.id == unit_id)) or str(unit_id)


def take_step(
    session: Session, principal: Principal, alert: Alert, step: AlertStep, now: datetime
) -> Alert:
    """Acknowledge, assign, comment or resolve: people of the alert's unit, or the province."""
    authorize(principal, "write", alert.unit_id, _unit_name(session, alert.unit_id))
    text = (step.text or "").strip() or None
    if text is not None and len(text) > MAX_TEXT:
        raise InvalidInput(f"text: at most {MAX_TEXT} characters.", code="too_long")
    who = principal.username
    if step.action == "resolve":
        if alert.state == AlertState.RESOLVED:
            raise Conflict(f"Alert #{alert.id} is resolved already.", code="wrong_state")
        _resolve(session, alert, who, now, text)
        _forget(session, alert)
        return alert
    if step.action == "acknowledge":
        if alert.state != AlertState.OPEN:
            raise Conflict(f"Alert #{alert.id} is {alert.state}: only an open alert is "
                           "acknowledged.", code="wrong_state")  # fmt: skip
        alert.state, alert.acknowledged_at, alert.acknowledged_by = (
            AlertState.ACKNOWLEDGED, now, who)  # fmt: skip
        action = "acknowledged"
    elif step.action == "assign":
        assignee = (step.assignee or who).strip()[:100]
        alert.assignee = assignee
        text, action = assignee, "assigned"
    elif step.action == "comment":
        if not text:
            raise InvalidInput("comment: write something.", code="missing_text")
        action = "commented"
    else:
        raise InvalidInput(f"Unknown step '{step.action[:40]}': acknowledge, assign, comment or "
                           "resolve.", code="unknown_step")  # fmt: skip
    _note(session, alert, who, action, text, now)
    _announce(session, topics.CHANGED, alert, action, who, now)
    return alert


def raise_manual(
    session: Session,
    principal: Principal,
    *,
    title: str,
    severity: Severity,
    unit_code: str | None,
    detail: str,
    now: datetime,
) -> Alert:
    """An alert a person raises (a call, something seen on the wall)."""
    unit = known_unit(session, unit_code, "unit_code") if unit_code else None
    unit_id = unit.id if unit is not None else None
    authorize(principal, "write", unit_id, unit.name if unit is not None else "the province")
    alert = Alert(
        rule_id=None, rule_code=None, subject=f"manual:{now.strftime('%Y%m%d%H%M%S%f')}",
        active_key=None, unit_id=unit_id, severity=severity, state=AlertState.OPEN,
        title=title, detail=detail, source_topic=None, context={}, opened_at=now,
        last_seen_at=now, occurrences=1, flaps=0,
    )  # fmt: skip
    session.add(alert)
    session.flush()
    _note(session, alert, principal.username, "raised", detail or None, now)
    _announce(session, topics.RAISED, alert, "raised", principal.username, now)
    return alert


# --- rules ------------------------------------------------------------------------------------


def save_rule(
    session: Session, principal: Principal, spec_raw: Any, registry: TopicRegistry
) -> AlertRule:
    """Add or replace a rule (by code), after checking it against the declared topics."""
    require(principal, Permission.MANAGE_ALERTS)
    spec = check_rule(spec_raw, registry)
    return store_rule(session, spec)


def store_rule(session: Session, spec: RuleSpec) -> AlertRule:
    rule = session.scalar(select(AlertRule).where(AlertRule.code == spec.code))
    if rule is None:
        rule = AlertRule(code=spec.code)
        session.add(rule)
    rule.name, rule.severity, rule.enabled = spec.name, spec.severity, spec.enabled
    rule.definition = spec.definition()
    rule.updated_at = utcnow()
    session.flush()
    return rule


def evaluate(
    session: Session,
    topic: str,
    payload: dict[str, Any],
    at: datetime,
    batch: Batch | None = None,
    touched: Touched | None = None,
) -> None:
    """One event through the enabled rules, in the caller's transaction (``touched``: what the
    event touches, from ``Batch.load_for``)."""
    batch = batch or Batch.start(session)
    apply(session, batch.engine.evaluate(topic, payload, at, batch.memory, touched), batch)


def evaluate_batch(session: Session, events: list[tuple[str, dict[str, Any], datetime]]) -> None:
    """Events in order through the enabled rules, as ``evaluate`` one by one would. The engine
    reads and changes only the memory, ``apply`` only the alerts: so the whole batch is decided
    first, then the active alerts are loaded for just the subjects decided on (few, in a calm
    hour) and the decisions applied in the events' order."""
    batch = Batch.start(session)
    batch.told = []
    touched = batch.load_for(((topic, payload) for topic, payload, _ in events), alerts=False)
    decided = [
        batch.engine.evaluate(topic, payload, at, batch.memory, each)
        for (topic, payload, at), each in zip(events, touched, strict=True)
    ]
    batch.active.load({decision.subject for decisions in decided for decision in decisions})
    for decisions in decided:
        apply(session, decisions, batch)
    _write_told(session, batch)


def tick(session: Session, now: datetime) -> int:
    """What time alone decides (pending periods over, flapping settled); how many decisions."""
    batch = Batch.start(session)
    decisions = batch.engine.due(now, batch.memory)
    apply(session, decisions, batch)
    return len(decisions)
