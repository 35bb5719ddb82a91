"""Directives (chỉ đạo) from the province or a department down to units, and requests for
support from a commune up: each recipient unit acknowledges, assigns to a person, posts
progress and a final result (tiếp nhận – phân công – theo dõi – báo cáo). A step found late is
marked overdue and, if it stays late ``alerts.directive_escalate_hours`` more, escalated — an
event the shipped rule ``directive_escalated`` turns into an alert for the province."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.alerts.attachments import listing
from dieuhanh.alerts.models import Directive, DirectiveRecipient, DirectiveState, DirectiveUpdate
from dieuhanh.alerts.service import known_unit
from dieuhanh.core.access import Permission, Principal, Role, authorize
from dieuhanh.core.config import Settings
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from dieuhanh.core.events import Topic, publish
from dieuhanh.units.models import Unit
from dieuhanh.units.service import children, get_unit
from dieuhanh.units.types import COMMUNE_LEVEL

ISSUED = "directive.issued"
UPDATED = "directive.updated"
OVERDUE = "directive.overdue"
ESCALATED = "directive.escalated"
# How soon a recipient must acknowledge, by priority.
ACKNOWLEDGE_WITHIN = {"flash": timedelta(hours=1), "urgent": timedelta(hours=4),
                      "normal": timedelta(hours=24)}  # fmt: skip
MAX_TEXT = 8000


class DirectiveEvent(BaseModel):
    """One recipient's side of a directive (one event per recipient unit)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="The directive's code (`GET /api/v1/directives/{code}`).")
    kind: str = Field(description="directive (down) or request (up).")
    title: str
    priority: str
    deadline: datetime
    unit_code: str = Field(description="The recipient unit.")
    unit_name: str
    state: DirectiveState
    step: str | None = Field(description="overdue/escalated: acknowledge or result.")
    percent: int
    action: str
    by: str
    at: datetime


TOPICS = tuple(
    Topic(name, DirectiveEvent, description)
    for name, description in (
        (ISSUED, "A directive (or a request for support) reached a unit."),
        (UPDATED, "A recipient acknowledged, assigned, reported progress or its result."),
        (OVERDUE, "A recipient's step (acknowledge, result) passed its time."),
        (ESCALATED, "A step stayed late alerts.directive_escalate_hours more: the province "
         "takes it up."),
    )
)  # fmt: skip


class DirectiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    body: str = Field(default="", max_length=MAX_TEXT)
    priority: str = Field(default="normal", pattern="^(normal|urgent|flash)$")
    deadline: datetime
    unit_codes: list[str] = Field(default_factory=list, max_length=200)
    all_units: bool = Field(default=False, description="Every commune and ward.")
    kind: str = Field(default="directive", pattern="^(directive|request)$")
    watch: list[str] = Field(default_factory=list, max_length=20)


@dataclass
class Step:
    action: str  # acknowledge, assign, progress, report
    text: str | None = None
    percent: int | None = None
    assignee: str | None = None


def issue(
    session: Session, settings: Settings, principal: Principal, body: DirectiveIn, now: datetime,
    *, scenario: str | None = None, alert_id: int | None = None,
) -> Directive:  # fmt: skip
    if body.deadline.tzinfo is None:
        raise InvalidInput("deadline: give a time zone (e.g. +07:00).", code="invalid_time")
    if body.deadline <= now:
        raise InvalidInput("deadline: it has passed already.", code="invalid_deadline")
    if body.kind == "request":  # up: from my unit to the province
        recipients = [get_unit(session, settings.province_code)]
        authorize(principal, "write", principal.unit_id, principal.unit_name)
    else:
        if not (
            principal.can(Permission.MANAGE_ALERTS) or principal.role == Role.DEPARTMENT_OFFICER
        ):
            raise Forbidden("Directives come from the province or a department.",
                            code="permission_denied")  # fmt: skip
        if body.all_units:
            recipients = children(session, get_unit(session, settings.province_code),
                                  COMMUNE_LEVEL)  # fmt: skip
        else:
            recipients = [
                known_unit(session, code, "unit_codes") for code in dict.fromkeys(body.unit_codes)
            ]
        if not recipients:
            raise InvalidInput("unit_codes: name at least one unit, or all_units.",
                               code="no_recipients")  # fmt: skip
    directive = Directive(
        code=secrets.token_hex(8),  # replaced by the numbered code once the row has its id
        kind=body.kind, title=body.title, body=body.body,
        priority=body.priority, deadline=body.deadline,
        acknowledge_by=min(now + ACKNOWLEDGE_WITHIN[body.priority], body.deadline),
        issuer_unit_id=principal.unit_id, issued_by=principal.username, alert_id=alert_id,
        scenario=scenario, watch=body.watch, created_at=now,
    )  # fmt: skip
    session.add(directive)
    session.flush()
    # From the row's id, as citizen reports: counting rows would give two directives issued
    # at once the same code.
    directive.code = f"CD-{now.astimezone(settings.zone).year}-{directive.id:06d}"
    for unit in recipients:
        recipient = DirectiveRecipient(directive_id=directive.id, unit_id=unit.id,
                                       state=DirectiveState.SENT, percent=0)  # fmt: skip
        session.add(recipient)
        session.flush()
        _announce(session, ISSUED, directive, recipient, unit, "issued", principal.username, now)
    return directive


def _announce(
    session: Session, topic: str, directive: Directive, recipient: DirectiveRecipient,
    unit: Unit, action: str, by: str, at: datetime,
) -> None:  # fmt: skip
    publish(session, topic, DirectiveEvent(
        code=directive.code, kind=directive.kind, title=directive.title,
        priority=directive.priority, deadline=directive.deadline, unit_code=unit.code,
        unit_name=unit.name, state=DirectiveState(recipient.state),
        step=recipient.overdue_step if topic in (OVERDUE, ESCALATED) else None,
        percent=recipient.percent, action=action, by=by, at=at,
    ), unit_id=unit.id)  # fmt: skip


def get_directive(session: Session, principal: Principal, code: str) -> Directive:
    directive = session.scalar(select(Directive).where(Directive.code == code[:20]))
    if directive is None:
        raise NotFound(f"No directive {code[:20]}.", code="directive_not_found")
    scope = principal.read_scope
    if scope.allows(directive.issuer_unit_id):
        return directive
    units = session.scalars(
        select(DirectiveRecipient.unit_id).where(DirectiveRecipient.directive_id == directive.id)
    ).all()
    if not any(scope.allows(unit_id) for unit_id in units):
        raise Forbidden(f"{directive.code} is neither from nor to your unit.",
                        code="out_of_scope")  # fmt: skip
    return directive


# action → (the states it applies to, the state after)
STEPS: dict[str, tuple[frozenset[str], str]] = {
    "acknowledge": (frozenset({DirectiveState.SENT}), DirectiveState.ACKNOWLEDGED),
    "assign": (frozenset({DirectiveState.ACKNOWLEDGED, DirectiveState.ASSIGNED,
                          DirectiveState.IN_PROGRESS}), DirectiveState.ASSIGNED),
    "progress": (frozenset({DirectiveState.ACKNOWLEDGED, DirectiveState.ASSIGNED,
                            DirectiveState.IN_PROGRESS}), DirectiveState.IN_PROGRESS),
    "report": (frozenset({DirectiveState.ACKNOWLEDGED, DirectiveState.ASSIGNED,
                          DirectiveState.IN_PROGRESS}), DirectiveState.DONE),
}  # fmt: skip


def take_step(
    session: Session, principal: Principal, directive: Directive, unit_code: str, step: Step,
    now: datetime,
) -> DirectiveRecipient:  # fmt: skip
    """A recipient unit's step; only that unit's people (or the province) may take it."""
    unit = known_unit(session, unit_code, "unit_code")
    recipient = session.scalar(
        select(DirectiveRecipient).where(
            DirectiveRecipient.directive_id == directive.id, DirectiveRecipient.unit_id == unit.id
        )
    )
    if recipient is None:
        raise NotFound(f"{directive.code} was not sent to {unit.name}.", code="not_a_recipient")
    authorize(principal, "write", unit.id, unit.name)
    rule = STEPS.get(step.action)
    if rule is None:
        raise InvalidInput(f"Unknown step '{step.action[:20]}': {', '.join(STEPS)}.",
                           code="unknown_step")  # fmt: skip
    allowed, after = rule
    if recipient.state not in allowed:
        raise Conflict(f"{unit.name} is at '{recipient.state}' for {directive.code}: "
                       f"'{step.action}' does not apply.", code="wrong_state")  # fmt: skip
    text = (step.text or "").strip() or None
    if text is not None and len(text) > MAX_TEXT:
        raise InvalidInput(f"text: at most {MAX_TEXT} characters.", code="too_long")
    if step.action in ("progress", "report") and not text:
        raise InvalidInput(f"{step.action}: say what was done.", code="missing_text")
    if step.action == "acknowledge":
        recipient.acknowledged_at = now
    elif step.action == "assign":
        recipient.assignee = (step.assignee or principal.username).strip()[:100]
        text = recipient.assignee
    elif step.action == "progress":
        if step.percent is None or not 0 <= step.percent <= 100:
            raise InvalidInput("percent: a share done, 0 to 100.", code="invalid_percent")
        recipient.percent = step.percent
    elif step.action == "report":
        recipient.result, recipient.percent, recipient.done_at = text, 100, now
    recipient.state = after
    session.add(DirectiveUpdate(recipient_id=recipient.id, at=now, actor=principal.username,
                                action=step.action, text=text,
                                percent=recipient.percent))  # fmt: skip
    _announce(session, UPDATED, directive, recipient, unit, step.action, principal.username, now)
    return recipient


def late_step(directive: Directive, recipient: DirectiveRecipient, now: datetime) -> str | None:
    """The step a recipient is late with at ``now``: ``result`` past the deadline,
    ``acknowledge`` past its time while not yet acknowledged, else None (and None once done)."""
    if recipient.state == DirectiveState.DONE:
        return None
    if now > directive.deadline:
        return "result"
    if recipient.state == DirectiveState.SENT and now > directive.acknowledge_by:
        return "acknowledge"
    return None


def watch(session: Session, settings: Settings, now: datetime) -> str:
    """Mark late steps overdue, escalate those late ``directive_escalate_hours`` more."""
    escalate_after = timedelta(hours=settings.alerts.directive_escalate_hours)
    rows = session.execute(
        select(DirectiveRecipient, Directive, Unit)
        .join(Directive, Directive.id == DirectiveRecipient.directive_id)
        .join(Unit, Unit.id == DirectiveRecipient.unit_id)
        .where(DirectiveRecipient.state != DirectiveState.DONE,
               DirectiveRecipient.escalated_at.is_(None))
    ).all()  # fmt: skip
    overdue = escalated = 0
    for recipient, directive, unit in rows:
        step = late_step(directive, recipient, now)
        if step is not None and recipient.overdue_step != step:
            recipient.overdue_step, recipient.overdue_at = step, now
            _announce(session, OVERDUE, directive, recipient, unit, "overdue", "system", now)
            overdue += 1
        if recipient.overdue_at is not None and now >= recipient.overdue_at + escalate_after:
            recipient.escalated_at = now
            _announce(session, ESCALATED, directive, recipient, unit, "escalated", "system", now)
            escalated += 1
    return f"{overdue} step(s) overdue, {escalated} escalated"


def board(session: Session, principal: Principal, days: int = 60) -> list[dict[str, Any]]:
    """Every directive × recipient within my scope of the last ``days`` (open ones first)."""
    since = utcnow() - timedelta(days=days)
    scope = principal.read_scope
    rows = session.execute(
        select(Directive, DirectiveRecipient, Unit)
        .join(DirectiveRecipient, DirectiveRecipient.directive_id == Directive.id)
        .join(Unit, Unit.id == DirectiveRecipient.unit_id)
        .where(Directive.created_at >= since)
        .order_by(Directive.id.desc(), Unit.code)
    ).all()
    seen = {d.id: d for d, r, _ in rows
            if scope.allows(r.unit_id) or scope.allows(d.issuer_unit_id)}  # fmt: skip
    files = listing(session, principal, seen)
    by_code: dict[str, dict[str, Any]] = {}
    for directive, recipient, unit in rows:
        if not (scope.allows(recipient.unit_id) or scope.allows(directive.issuer_unit_id)):
            continue
        entry = by_code.setdefault(directive.code, {
            "code": directive.code, "kind": directive.kind, "title": directive.title,
            "priority": directive.priority, "deadline": directive.deadline,
            "issued_by": directive.issued_by, "scenario": directive.scenario,
            "attachments": files.get((directive.id, None), []), "recipients": [],
            "done": 0})  # fmt: skip
        entry["recipients"].append({
            "unit_code": unit.code, "unit_name": unit.name, "state": recipient.state,
            "percent": recipient.percent, "assignee": recipient.assignee,
            "overdue_step": recipient.overdue_step, "escalated": recipient.escalated_at is not None,
            "done_at": recipient.done_at,
            "attachments": files.get((directive.id, recipient.id), [])})  # fmt: skip
        entry["done"] += recipient.state == DirectiveState.DONE
    entries = list(by_code.values())
    entries.sort(key=lambda e: e["done"] == len(e["recipients"]))  # open ones first (stable)
    return entries
