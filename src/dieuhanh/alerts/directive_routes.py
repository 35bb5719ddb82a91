"""The directives API: issue (the province, a department) or request support (a commune), each
recipient's steps, one directive with its history, the live board; scenarios run by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from dieuhanh.alerts import scenarios
from dieuhanh.alerts.attachments import listing
from dieuhanh.alerts.directives import DirectiveIn, Step, board, get_directive, issue, take_step
from dieuhanh.alerts.models import Directive, DirectiveRecipient, DirectiveUpdate
from dieuhanh.core.access import Permission, Principal, require
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.units.models import Unit

router = api_router("directives")


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    uploaded_by: str
    created_at: datetime
    url: str = Field(description="Where to download it (`GET`, those who may see it).")


class UpdateOut(BaseModel):
    at: datetime
    actor: str
    action: str
    text: str | None
    percent: int | None


class RecipientOut(BaseModel):
    unit_code: str
    unit_name: str
    state: str
    assignee: str | None
    percent: int
    result: str | None
    acknowledged_at: datetime | None
    done_at: datetime | None
    overdue_step: str | None
    escalated_at: datetime | None
    updates: list[UpdateOut]
    attachments: list[AttachmentOut] = Field(
        description="Files on this unit's report (shown to that unit and the issuer's side)."
    )


class DirectiveOut(BaseModel):
    code: str
    kind: str
    title: str
    body: str
    priority: str
    deadline: datetime
    acknowledge_by: datetime
    issued_by: str
    issuer_unit: str
    scenario: str | None
    alert_id: int | None
    watch: list[str]
    created_at: datetime
    attachments: list[AttachmentOut] = Field(description="The issuer's files.")
    recipients: list[RecipientOut]


def _out(db: Any, principal: Principal, directive: Directive) -> DirectiveOut:
    rows = db.execute(
        select(DirectiveRecipient, Unit).join(Unit, Unit.id == DirectiveRecipient.unit_id)
        .where(DirectiveRecipient.directive_id == directive.id).order_by(Unit.code)
    ).all()  # fmt: skip
    updates: dict[int, list[UpdateOut]] = {}
    for update in db.scalars(
        select(DirectiveUpdate).where(DirectiveUpdate.recipient_id.in_([r.id for r, _ in rows]))
        .order_by(DirectiveUpdate.id)
    ):  # fmt: skip
        updates.setdefault(update.recipient_id, []).append(UpdateOut(
            at=update.at, actor=update.actor, action=update.action, text=update.text,
            percent=update.percent))  # fmt: skip
    issuer = db.get(Unit, directive.issuer_unit_id)
    found = listing(db, principal, {directive.id: directive})

    def files(recipient_id: int | None) -> list[AttachmentOut]:
        return [
            AttachmentOut.model_validate(a) for a in found.get((directive.id, recipient_id), [])
        ]

    return DirectiveOut(
        code=directive.code, kind=directive.kind, title=directive.title, body=directive.body,
        priority=directive.priority, deadline=directive.deadline,
        acknowledge_by=directive.acknowledge_by, issued_by=directive.issued_by,
        issuer_unit=issuer.code if issuer else "", scenario=directive.scenario,
        alert_id=directive.alert_id, watch=directive.watch, created_at=directive.created_at,
        attachments=files(None),
        recipients=[RecipientOut(
            unit_code=unit.code, unit_name=unit.name, state=r.state, assignee=r.assignee,
            percent=r.percent, result=r.result, acknowledged_at=r.acknowledged_at,
            done_at=r.done_at, overdue_step=r.overdue_step, escalated_at=r.escalated_at,
            updates=updates.get(r.id, []), attachments=files(r.id)) for r, unit in rows],
    )  # fmt: skip


@router.post(
    "/directives",
    response_model=DirectiveOut,
    status_code=201,
    summary="Issue a directive to units, or (kind request) ask the province for support",
    description="A directive comes from the province (`manage_alerts`) or a department, to "
    "`unit_codes` or `all_units`; a request goes from my unit to the province. Each recipient "
    "must acknowledge (within 1 h flash, 4 h urgent, 24 h normal), assign, report progress and "
    "a result by `deadline`. 422 `unknown_unit` names the code.",
)
def issue_directive(
    body: DirectiveIn, request: Request, db: Db, principal: CurrentPrincipal
) -> DirectiveOut:
    directive = issue(db, get_runtime(request).settings, principal, body, utcnow())
    db.commit()
    return _out(db, principal, directive)


@router.get("/directives/board", summary="Every directive × recipient unit with its state",
            description="Directives of the last `days` from or to units within my scope, open "
            "ones first: `[{code, kind, title, priority, deadline, issued_by, scenario, done, "
            "attachments, recipients: [{unit_code, unit_name, state, percent, assignee, "
            "overdue_step, escalated, done_at, attachments}]}]` (attachments: `[{id, "
            "filename, content_type, size, uploaded_by, created_at, url}]`, those I may "
            "download).")  # fmt: skip
def directive_board(
    db: Db, principal: CurrentPrincipal, days: Annotated[int, Query(ge=1, le=366)] = 60
) -> list[dict[str, Any]]:
    return board(db, principal, days)


@router.get("/directives/{code}", response_model=DirectiveOut,
            summary="One directive with each recipient's steps")  # fmt: skip
def one_directive(code: str, db: Db, principal: CurrentPrincipal) -> DirectiveOut:
    return _out(db, principal, get_directive(db, principal, code))


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=8000)
    percent: int | None = Field(default=None, ge=0, le=100)
    assignee: str | None = Field(default=None, max_length=100)


@router.post(
    "/directives/{code}/recipients/{unit_code}/{action}",
    response_model=DirectiveOut,
    summary="A recipient's step: acknowledge, assign, progress, report",
    description="People of that unit (or the province). `assign` takes `assignee` (default: "
    "me); `progress` needs `text` and `percent`; `report` (the final result) needs `text`. "
    "409 `wrong_state`; 403 for another unit's.",
)
def recipient_step(
    code: str,
    unit_code: str,
    action: Literal["acknowledge", "assign", "progress", "report"],
    db: Db,
    principal: CurrentPrincipal,
    body: StepIn | None = None,
) -> DirectiveOut:
    body = body or StepIn()
    directive = get_directive(db, principal, code)
    take_step(db, principal, directive, unit_code,
              Step(action, body.text, body.percent, body.assignee), utcnow())  # fmt: skip
    db.commit()
    return _out(db, principal, directive)


class ScenarioOut(BaseModel):
    code: str
    name: str
    rules: list[str]
    auto: bool
    directive: dict[str, Any]
    watch: list[str]


@router.get("/scenarios", response_model=list[ScenarioOut], summary="Operating scenarios")
def list_scenarios() -> list[ScenarioOut]:
    return [ScenarioOut(**s.model_dump()) for s in scenarios.shipped()]


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_codes: list[str] = Field(default_factory=list, max_length=200)


@router.post("/scenarios/{code}/run", response_model=DirectiveOut, status_code=201,
             summary="Run a scenario by hand: its directive to the units named")  # fmt: skip
def run_scenario(
    code: str, body: RunIn, request: Request, db: Db, principal: CurrentPrincipal
) -> DirectiveOut:
    require(principal, Permission.MANAGE_ALERTS)
    scenario = scenarios.find(code)
    units = body.unit_codes or (
        list(scenario.directive.to) if isinstance(scenario.directive.to, list) else []
    )
    directive = scenarios.run(db, get_runtime(request).settings, principal, scenario, units,
                              utcnow())  # fmt: skip
    db.commit()
    return _out(db, principal, directive)
