"""The alerts API: alerts within one's unit scope and the steps on them, manual alerts, the live
stream (server-sent events), and the rules (declared, changed, tried on past events)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import Body, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from sse_starlette.sse import EventSourceResponse

from dieuhanh.alerts.backtest import BacktestResult, backtest
from dieuhanh.alerts.briefing import briefing
from dieuhanh.alerts.briefing_sections import contributed
from dieuhanh.alerts.models import (
    Alert,
    AlertNote,
    AlertPreference,
    AlertRule,
    AlertState,
    AlertWebhook,
    Severity,
)
from dieuhanh.alerts.notify import DEFAULT_SEVERITIES, new_webhook
from dieuhanh.alerts.rules import parse_rules
from dieuhanh.alerts.service import AlertStep, get_alert, raise_manual, save_rule, store_rule
from dieuhanh.alerts.service import take_step as alert_step
from dieuhanh.core.access import Permission, Principal, require
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import InvalidInput, NotFound
from dieuhanh.core.events import EventRecord
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.eventfeed import event_feed
from dieuhanh.core.http.routing import api_router
from dieuhanh.units.models import Unit

router = api_router("alerts")
STREAM_POLL_SECONDS = 0.25
STREAM_BATCH = 200


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    action: str
    text: str | None


class AlertOut(BaseModel):
    id: int
    rule: str | None
    subject: str
    severity: Severity
    state: AlertState
    title: str
    detail: str
    unit_code: str | None
    unit_name: str | None
    source_topic: str | None
    context: dict[str, Any]
    opened_at: datetime
    last_seen_at: datetime
    occurrences: int
    flaps: int
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    assignee: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    notes: list[NoteOut] | None = None


def _out(alert: Alert, unit: Unit | None, notes: list[AlertNote] | None = None) -> AlertOut:
    return AlertOut(
        id=alert.id, rule=alert.rule_code, subject=alert.subject,
        severity=Severity(alert.severity), state=AlertState(alert.state), title=alert.title,
        detail=alert.detail, unit_code=unit.code if unit else None,
        unit_name=unit.name if unit else None, source_topic=alert.source_topic,
        context=alert.context, opened_at=alert.opened_at, last_seen_at=alert.last_seen_at,
        occurrences=alert.occurrences, flaps=alert.flaps, acknowledged_at=alert.acknowledged_at,
        acknowledged_by=alert.acknowledged_by, assignee=alert.assignee,
        resolved_at=alert.resolved_at, resolved_by=alert.resolved_by,
        notes=[NoteOut.model_validate(n) for n in notes] if notes is not None else None,
    )  # fmt: skip


def list_alerts(
    db: Any, principal: Principal, *, state: str | None, severity: str | None,
    unit: str | None, limit: int,
) -> list[AlertOut]:  # fmt: skip
    query = (
        select(Alert, Unit)
        .outerjoin(Unit, Unit.id == Alert.unit_id)
        .where(principal.read_scope.where(Alert.unit_id))
        .order_by(Alert.id.desc())
        .limit(limit)
    )
    if state:
        query = query.where(Alert.state.in_([s.strip() for s in state.split(",")]))
    if severity:
        query = query.where(Alert.severity.in_([s.strip() for s in severity.split(",")]))
    if unit:
        query = query.where(Unit.code == unit)
    return [_out(alert, unit_row) for alert, unit_row in db.execute(query)]


@router.get(
    "/alerts",
    response_model=list[AlertOut],
    summary="Alerts within my unit scope, newest first",
    description="Filters: `state` (comma list of open, acknowledged, resolved; default: open "
    "and acknowledged), `severity` (comma list), `unit` (code). At most `limit`.",
)
def alerts(
    db: Db,
    principal: CurrentPrincipal,
    state: Annotated[str, Query(max_length=60)] = "open,acknowledged",
    severity: Annotated[str | None, Query(max_length=60)] = None,
    unit: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AlertOut]:
    return list_alerts(db, principal, state=state or None, severity=severity, unit=unit,
                       limit=limit)  # fmt: skip


@router.get("/alerts/stream", summary="New and changed alerts, live (server-sent events)",
            description="Each `alert` event carries the `alert.raised`, `alert.changed` or "
            "`alert.resolved` payload, each `directive` event a `directive.*` payload, within "
            "the caller's unit scope. Resumes after `Last-Event-ID` when the browser reconnects.",
            response_class=EventSourceResponse)  # fmt: skip
async def stream(request: Request, principal: CurrentPrincipal) -> EventSourceResponse:
    scope = principal.read_scope

    def read(session: Session, after: int) -> tuple[int, list[dict[str, str]], bool]:
        rows = session.scalars(
            select(EventRecord)
            .where(
                EventRecord.id > after,
                EventRecord.topic.like("alert.%") | EventRecord.topic.like("directive.%"),
            )
            .order_by(EventRecord.id)
            .limit(STREAM_BATCH)
        ).all()
        messages = [
            {"event": row.topic.split(".", 1)[0],  # alert or directive
             "id": str(row.id), "data": json.dumps({"topic": row.topic, **row.payload})}
            for row in rows
            if scope.allows(row.unit_id)
        ]  # fmt: skip
        return (rows[-1].id if rows else after), messages, len(rows) == STREAM_BATCH

    runtime = get_runtime(request)
    return event_feed(request, runtime.sessions, read, poll_seconds=STREAM_POLL_SECONDS)


@router.get("/alerts/{alert_id}", response_model=AlertOut, summary="One alert with its history")
def one_alert(alert_id: int, db: Db, principal: CurrentPrincipal) -> AlertOut:
    alert = get_alert(db, principal, alert_id)
    notes = db.scalars(
        select(AlertNote).where(AlertNote.alert_id == alert.id).order_by(AlertNote.id)
    ).all()
    unit = db.get(Unit, alert.unit_id) if alert.unit_id else None
    return _out(alert, unit, list(notes))


class ManualIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    severity: Severity = Severity.WARNING
    unit_code: str | None = Field(default=None, max_length=32)
    detail: str = Field(default="", max_length=4000)


@router.post("/alerts", response_model=AlertOut, status_code=201,
             summary="Raise an alert by hand (a call, something seen on the wall)")  # fmt: skip
def manual(body: ManualIn, db: Db, principal: CurrentPrincipal) -> AlertOut:
    alert = raise_manual(db, principal, title=body.title, severity=body.severity,
                         unit_code=body.unit_code, detail=body.detail, now=utcnow())  # fmt: skip
    db.commit()
    return one_alert(alert.id, db, principal)


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=4000)
    assignee: str | None = Field(default=None, max_length=100)


@router.post(
    "/alerts/{alert_id}/{action}",
    response_model=AlertOut,
    summary="A step on an alert: acknowledge, assign, comment, resolve",
    description="People of the alert's unit (or the province). `resolve` takes an optional "
    "`text` (why); `comment` needs `text`; `assign` takes `assignee` (default: me).",
)
def step(
    alert_id: int,
    action: Literal["acknowledge", "assign", "comment", "resolve"],
    db: Db,
    principal: CurrentPrincipal,
    body: StepIn | None = None,
) -> AlertOut:
    body = body or StepIn()
    alert = get_alert(db, principal, alert_id)
    alert_step(db, principal, alert, AlertStep(action, body.text, body.assignee), utcnow())
    db.commit()
    return one_alert(alert_id, db, principal)


# --- rules ------------------------------------------------------------------------------------


class RuleOut(BaseModel):
    code: str
    name: str
    severity: str
    enabled: bool
    definition: dict[str, Any]
    updated_at: datetime


def _rule_out(rule: AlertRule) -> RuleOut:
    return RuleOut(code=rule.code, name=rule.name, severity=rule.severity, enabled=rule.enabled,
                   definition=rule.definition, updated_at=rule.updated_at)  # fmt: skip


@router.get("/alert-rules", response_model=list[RuleOut], summary="Alert rules")
def rules(db: Db) -> list[RuleOut]:
    return [_rule_out(r) for r in db.scalars(select(AlertRule).order_by(AlertRule.code))]


@router.post(
    "/alert-rules",
    response_model=RuleOut,
    summary="Declare or replace a rule (JSON, the keys of the YAML form)",
    description="Checked against the declared topics: an unknown topic or field, or a syntax "
    "error in `when`/`clear`, is refused with the key and the column. `manage_alerts`.",
)
def declare_rule(
    request: Request, db: Db, principal: CurrentPrincipal, body: Annotated[dict[str, Any], Body()]
) -> RuleOut:
    rule = save_rule(db, principal, body, get_runtime(request).topics)
    db.commit()
    return _rule_out(rule)


@router.post(
    "/alert-rules/yaml",
    response_model=list[RuleOut],
    summary="Declare or replace the rules of a YAML text (all or none)",
    openapi_extra={"requestBody": {"content": {"application/yaml": {"schema": {"type": "string"}}},
                                   "required": True}},
)  # fmt: skip
async def declare_yaml(request: Request, db: Db, principal: CurrentPrincipal) -> list[RuleOut]:
    require(principal, Permission.MANAGE_ALERTS)
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"rules: not UTF-8 (byte {exc.start})", code="invalid_rule") from None
    specs = parse_rules(text, get_runtime(request).topics)
    stored = [store_rule(db, spec) for spec in specs]
    db.commit()
    return [_rule_out(rule) for rule in stored]


class TryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: dict[str, Any] | None = Field(default=None, description="A rule not yet saved.")
    code: str | None = Field(default=None, max_length=60, description="Or a saved rule's code.")
    start: datetime | None = Field(default=None, description="Default: 90 days ago.")
    end: datetime | None = Field(default=None, description="Default: now.")


@router.post(
    "/alert-rules/test",
    response_model=BacktestResult,
    summary="What would this rule have raised? (replays past events; stores nothing)",
    description="Replays the events kept in the log between `start` and `end` through the "
    "rule, with its pending period, repeat count and flapping, and lists the alerts it would "
    "have raised and when they would have cleared.",
)
def try_rule(body: TryIn, request: Request, db: Db, principal: CurrentPrincipal) -> BacktestResult:
    require(principal, Permission.MANAGE_ALERTS)
    raw = body.rule
    if raw is None:
        saved = db.scalar(select(AlertRule).where(AlertRule.code == (body.code or "")))
        if saved is None:
            raise NotFound(f"No rule '{(body.code or '')[:60]}'.", code="rule_not_found")
        raw = saved.definition
    end = body.end or utcnow()
    start = body.start or end - timedelta(days=90)
    return backtest(db, raw, get_runtime(request).topics, start, end)


# --- notifications ----------------------------------------------------------------------------

_HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class PreferenceIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    severities: list[Severity] = Field(
        default_factory=lambda: [Severity(s) for s in DEFAULT_SEVERITIES]
    )
    email: bool = True
    quiet_start: str | None = Field(default=None, pattern=_HHMM, description="e.g. 22:00")
    quiet_end: str | None = Field(default=None, pattern=_HHMM, description="e.g. 06:00")
    briefing: bool = Field(default=False, description="E-mail me my unit's daily briefing at "
                           "alerts.briefing_hour (7:00).")  # fmt: skip


@router.get(
    "/alerts-preferences",
    response_model=PreferenceIO,
    summary="Which alerts reach me (severities, e-mail, quiet hours, briefing)",
)
def my_preferences(db: Db, principal: CurrentPrincipal) -> PreferenceIO:
    found = db.get(AlertPreference, principal.user_id)
    if found is None:
        return PreferenceIO()
    return PreferenceIO(severities=[Severity(s) for s in found.severities], email=found.email,
                        quiet_start=found.quiet_start, quiet_end=found.quiet_end,
                        briefing=found.briefing)  # fmt: skip


@router.put("/alerts-preferences", response_model=PreferenceIO,
            summary="Choose which alerts reach me; critical ones ignore quiet hours")  # fmt: skip
def set_preferences(body: PreferenceIO, db: Db, principal: CurrentPrincipal) -> PreferenceIO:
    if (body.quiet_start is None) != (body.quiet_end is None):
        raise InvalidInput("quiet_start and quiet_end go together.", code="invalid_quiet_hours")
    found = db.get(AlertPreference, principal.user_id) or AlertPreference(user_id=principal.user_id)
    found.severities = [s.value for s in body.severities]
    found.email, found.quiet_start, found.quiet_end = body.email, body.quiet_start, body.quiet_end
    found.briefing = body.briefing
    db.add(found)
    db.commit()
    return body


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=8, max_length=500, pattern=r"^https?://")
    severities: list[Severity] = Field(
        default_factory=lambda: [Severity(s) for s in DEFAULT_SEVERITIES]
    )


class WebhookOut(BaseModel):
    id: int
    name: str
    url: str
    severities: list[str]
    active: bool
    secret: str | None = Field(default=None, description="Only in the answer that made it.")


@router.post("/alert-webhooks", response_model=WebhookOut, status_code=201,
             summary="Add a webhook receiver; its signing secret is shown this once")  # fmt: skip
def add_webhook(
    body: WebhookIn, request: Request, db: Db, principal: CurrentPrincipal
) -> WebhookOut:
    require(principal, Permission.MANAGE_ALERTS)
    hook, secret = new_webhook(db, get_runtime(request), name=body.name, url=body.url,
                               severities=[s.value for s in body.severities],
                               by=principal.username)  # fmt: skip
    db.commit()
    return WebhookOut(id=hook.id, name=hook.name, url=hook.url, severities=hook.severities,
                      active=hook.active, secret=secret)  # fmt: skip


@router.get("/alert-webhooks", response_model=list[WebhookOut], summary="Webhook receivers")
def webhooks(db: Db, principal: CurrentPrincipal) -> list[WebhookOut]:
    require(principal, Permission.MANAGE_ALERTS)
    return [
        WebhookOut(id=h.id, name=h.name, url=h.url, severities=h.severities, active=h.active)
        for h in db.scalars(select(AlertWebhook).order_by(AlertWebhook.id))
    ]


@router.post("/alert-webhooks/{hook_id}/disable", response_model=WebhookOut,
             summary="Switch a webhook receiver off")  # fmt: skip
def disable_webhook(hook_id: int, db: Db, principal: CurrentPrincipal) -> WebhookOut:
    require(principal, Permission.MANAGE_ALERTS)
    hook = db.get(AlertWebhook, hook_id)
    if hook is None:
        raise NotFound(f"No webhook #{hook_id}.", code="webhook_not_found")
    hook.active = False
    db.commit()
    return WebhookOut(id=hook.id, name=hook.name, url=hook.url, severities=hook.severities,
                      active=hook.active)  # fmt: skip


@router.get(
    "/briefing",
    summary="The daily briefing of a unit: what changed in the 24 hours up to 7:00",
    description="`unit` (code; default mine, within my scope), `date` (default today, province "
    "time). Alerts raised (by severity) and still open, directive steps late, indicators that "
    "changed band, sources gone stale, citizen reports received / overdue / escalated — each "
    "line from the product's own records, with a link — and the sections other capabilities "
    "contribute (`sections`: the assistant's situation in words, each sentence with its query "
    "and link).",
)
def daily_briefing(
    request: Request,
    db: Db,
    principal: CurrentPrincipal,
    unit: Annotated[str | None, Query(max_length=32)] = None,
    day: Annotated[date | None, Query(alias="date")] = None,
) -> dict[str, Any]:
    runtime = get_runtime(request)
    found = briefing(db, principal, unit, day or runtime.today(), runtime.settings.timezone)
    found["sections"] = contributed(db, runtime, principal, found, utcnow())
    return found
