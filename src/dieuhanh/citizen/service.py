"""Filing and handling citizen reports: intake (classify, place, deadline, store, publish), the
steps of handling with who may take them, and the deadline watch (overdue, escalation,
closing resolved reports once the citizen can no longer reopen them).

Every step leaves a ReportEvent (the report's own history, public answers and internal notes)
and an audit entry (the report is an audited model); topics are published in the same
transaction, so a subscriber sees a step exactly when it is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.citizen import topics
from dieuhanh.citizen.categories import get_category
from dieuhanh.citizen.models import (
    OPEN_STATUSES,
    Channel,
    CitizenReport,
    Open311Key,
    ReportCategory,
    ReportEvent,
    Status,
)
from dieuhanh.citizen.routing import place
from dieuhanh.citizen.workdays import WorkCalendar
from dieuhanh.core.access import Permission, Principal, authorize
from dieuhanh.core.config import Settings
from dieuhanh.core.db.actor import get_actor
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from dieuhanh.core.events import publish
from dieuhanh.units.models import Unit
from dieuhanh.units.service import find_unit, get_unit

MAX_DESCRIPTION = 4000
MAX_NOTE = 4000


@dataclass
class Intake:
    """A report as it arrives, from any channel."""

    category: str
    description: str
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    urgent: bool = False
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    unit_code: str | None = None  # a case its own system already placed (the hotline's)


def calendar(settings: Settings) -> WorkCalendar:
    return WorkCalendar(settings.zone, settings.citizen.days_off)


def file_report(
    session: Session,
    settings: Settings,
    intake: Intake,
    channel: Channel,
    *,
    now: datetime | None = None,
    suggestion: tuple[str, float] | None = None,
) -> CitizenReport:
    """Check, place and store a new report; publish created and routed. The caller commits."""
    now = now or utcnow()
    category = get_category(session, intake.category)
    description = _checked_text(intake.description, "description", MAX_DESCRIPTION, required=True)
    _check_contact(intake, channel)
    province = get_unit(session, settings.province_code)
    placement = place(
        session, province, handled_by=category.handled_by,
        department_code=category.department_code, lat=intake.lat, lon=intake.lon,
        address=intake.address, unit_code=intake.unit_code,
    )  # fmt: skip
    due = (
        now + timedelta(hours=category.urgent_hours)
        if intake.urgent
        else calendar(settings).add_working_days(now, category.deadline_days)
    )
    token = secrets.token_urlsafe(18)
    report = CitizenReport(
        code=token[:20],  # replaced by the numbered code once the row has its id
        token=token,
        channel=channel.value,
        category_id=category.id,
        suggested_category=suggestion[0] if suggestion else None,
        confidence=suggestion[1] if suggestion else None,
        description=description,
        attributes=_checked_attributes(category, intake.attributes),
        lat=intake.lat,
        lon=intake.lon,
        address=_checked_text(intake.address, "address", 300),
        located_by=placement.located_by,
        unit_id=placement.unit.id,
        neighbour_unit_ids=[unit.id for unit in placement.neighbours],
        status=Status.NEW,
        urgent=intake.urgent,
        contact_name=_checked_text(intake.contact_name, "contact name", 100),
        contact_phone=_checked_text(intake.contact_phone, "phone", 20),
        contact_email=_checked_text(intake.contact_email, "email", 120),
        external_id=_checked_text(intake.external_id, "external id", 60),
        received_at=now,
        due_at=due,
    )
    session.add(report)
    session.flush()
    report.code = f"PA{now.astimezone(settings.zone).year}-{report.id:06d}"
    _event(session, report, "created", None, Status.NEW, now=now)
    publish(session, topics.CREATED, topics.payload(report, category, placement.unit, now),
            unit_id=report.unit_id)  # fmt: skip
    publish(session, topics.ROUTED, topics.payload(report, category, placement.unit, now),
            unit_id=report.unit_id)  # fmt: skip
    return report


def _check_contact(intake: Intake, channel: Channel) -> None:
    if channel in (Channel.WEB, Channel.OPEN311) and not (
        (intake.contact_phone or "").strip() or (intake.contact_email or "").strip()
    ):
        raise InvalidInput(
            "Give a phone number or an e-mail address, so the unit can ask and answer you; "
            "it is never shown publicly.",
            code="missing_contact",
        )
    phone = (intake.contact_phone or "").replace(" ", "").replace(".", "")
    if phone and not (phone.lstrip("+").isdigit() and 8 <= len(phone) <= 15):
        raise InvalidInput(f"phone: '{intake.contact_phone}' is not a phone number.",
                           code="invalid_phone")  # fmt: skip
    email = (intake.contact_email or "").strip()
    if email and ("@" not in email or " " in email or len(email) > 120):
        raise InvalidInput(f"email: '{email[:60]}' is not an e-mail address.",
                           code="invalid_email")  # fmt: skip


def _checked_text(value: str | None, name: str, limit: int, required: bool = False) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{name}: say what happened.", code="missing_description")
    if len(text) > limit:
        raise InvalidInput(f"{name}: {len(text)} characters; at most {limit}.",
                           code="too_long")  # fmt: skip
    return text or None


def _checked_attributes(category: ReportCategory, given: dict[str, Any]) -> dict[str, Any]:
    fields = {item["code"]: item for item in category.fields or []}
    result: dict[str, Any] = {}
    for code, value in given.items():
        spec = fields.get(code)
        if spec is None:
            raise InvalidInput(f"attribute[{code}]: {category.code} has no such field.",
                               code="unknown_attribute")  # fmt: skip
        keys = {item["key"] for item in spec.get("values", [])}
        if keys and value not in keys:
            raise InvalidInput(f"attribute[{code}]: '{str(value)[:40]}' is not one of "
                               f"{', '.join(sorted(keys))}.", code="invalid_attribute")  # fmt: skip
        result[code] = str(value)[:500]
    missing = [code for code, spec in fields.items() if spec.get("required") and code not in result]
    if missing:
        raise InvalidInput(f"attribute[{missing[0]}] is required for {category.code}.",
                           code="missing_attribute")  # fmt: skip
    return result


# --- handling --------------------------------------------------------------------------------

# action → (the statuses it applies to, the status after; None: unchanged)
STEPS: dict[str, tuple[frozenset[str], str | None]] = {
    "accept": (frozenset({Status.NEW, Status.REOPENED}), Status.ACCEPTED),
    "refuse": (frozenset({Status.NEW}), Status.REFUSED),
    "assign": (OPEN_STATUSES, Status.ASSIGNED),
    "start": (frozenset({Status.ACCEPTED, Status.ASSIGNED, Status.REOPENED}), Status.IN_PROGRESS),
    "resolve": (OPEN_STATUSES - {Status.NEW}, Status.RESOLVED),
    "close": (frozenset({Status.RESOLVED}), Status.CLOSED),
    "reopen": (frozenset({Status.RESOLVED, Status.CLOSED}), Status.REOPENED),
    "duplicate": (OPEN_STATUSES, Status.DUPLICATE),
    "transfer": (OPEN_STATUSES, Status.NEW),
    "note": (frozenset(Status), None),
    "categorize": (OPEN_STATUSES, None),  # staff confirm or correct the category
}


@dataclass
class Step:
    action: str
    note: str | None = None  # the reason, the answer, or an internal note
    public: bool = False  # the note is an answer the citizen reads
    assignee: str | None = None
    unit: str | None = None  # transfer: the unit's code
    duplicate_of: str | None = None  # duplicate: the original's code
    category: str | None = None  # categorize: the right category's code


def get_report(session: Session, code: str) -> CitizenReport:
    report = session.scalar(select(CitizenReport).where(CitizenReport.code == code))
    if report is None:
        raise NotFound(f"No report {code}.", code="report_not_found")
    return report


def take_step(
    session: Session,
    settings: Settings,
    principal: Principal,
    report: CitizenReport,
    step: Step,
    *,
    now: datetime | None = None,
) -> CitizenReport:
    """One step of handling by staff of the report's unit (or the province). The caller commits."""
    now = now or utcnow()
    unit = session.get_one(Unit, report.unit_id)
    authorize(principal, "write", unit.id, unit.name)
    after = _step_rule(step.action, report)
    note = _checked_text(step.note, "note", MAX_NOTE)
    before = report.status
    if step.action in ("refuse", "transfer", "duplicate", "resolve") and not note:
        what = "the answer" if step.action == "resolve" else "the reason"
        raise InvalidInput(f"{step.action}: give {what}.", code="missing_note")
    public = step.public or step.action in ("refuse", "resolve", "duplicate")
    if step.action == "assign":
        report.assignee = _checked_text(step.assignee, "assignee", 100) or principal.username
    elif step.action == "resolve":
        report.answer, report.resolved_at = note, now
        report.reopen_until = now + timedelta(days=settings.citizen.reopen_days)
    elif step.action == "close":
        report.closed_at = now
    elif step.action == "duplicate":
        original = get_report(session, step.duplicate_of or "")
        if original.id == report.id:
            raise InvalidInput("A report is not a duplicate of itself.", code="invalid_duplicate")
        report.duplicate_of_id = original.id
    elif step.action == "transfer":
        target = _transfer_target(session, principal, step.unit)
        if target.id == report.unit_id:
            raise InvalidInput(f"The report is with {target.name} already.", code="same_unit")
        report.unit_id, report.located_by = target.id, "transfer"
        report.assignee, report.overdue_at = None, None
    elif step.action == "reopen":
        report.resolved_at, report.closed_at, report.reopen_until = None, None, None
    elif step.action == "categorize":
        chosen = get_category(session, step.category or "")
        note = f"{session.get_one(ReportCategory, report.category_id).code} → {chosen.code}"
        report.category_id = chosen.id
    if after is not None:
        report.status = after
    _event(session, report, step.action, before, report.status, note=note, public=public,
           actor=principal.username, now=now)  # fmt: skip
    category = session.get_one(ReportCategory, report.category_id)
    target_unit = session.get_one(Unit, report.unit_id)
    topic = {"resolve": topics.RESOLVED, "reopen": topics.REOPENED, "transfer": topics.ROUTED,
             "refuse": topics.REFUSED}  # fmt: skip
    if step.action in topic:
        publish(session, topic[step.action], topics.payload(report, category, target_unit, now),
                unit_id=report.unit_id)  # fmt: skip
    return report


def _step_rule(action: str, report: CitizenReport) -> str | None:
    """The status after ``action``, if it applies to the report's status now."""
    rule = STEPS.get(action)
    if rule is None:
        raise InvalidInput(f"Unknown step '{action}': one of {', '.join(STEPS)}.",
                           code="unknown_step")  # fmt: skip
    allowed, after = rule
    if report.status not in allowed:
        raise Conflict(f"{report.code} is {report.status}: '{action}' does not apply.",
                       code="wrong_status")  # fmt: skip
    return after


def _transfer_target(session: Session, principal: Principal, code: str | None) -> Unit:
    target = find_unit(session, code or "")
    if target is None:
        raise InvalidInput(f"transfer: unknown unit '{code}'.", code="unknown_unit")
    return target


def reopen_by_citizen(
    session: Session, report: CitizenReport, token: str, reason: str, now: datetime | None = None
) -> CitizenReport:
    """ "Fixed, but not really": the citizen (who holds the report's token) sends it back to the
    unit, within the reopening window."""
    now = now or utcnow()
    if not secrets.compare_digest(token, report.token):
        raise Forbidden("This link does not belong to this report.", code="bad_token")
    if report.status != Status.RESOLVED or report.reopen_until is None or now > report.reopen_until:
        raise Conflict(f"{report.code} can no longer be reopened (it is {report.status}).",
                       code="not_reopenable")  # fmt: skip
    text = _checked_text(reason, "reason", MAX_NOTE)
    if not text:
        raise InvalidInput("Say what is still wrong.", code="missing_note")
    before = report.status
    report.status, report.resolved_at, report.reopen_until = Status.REOPENED, None, None
    _event(session, report, "reopen", before, report.status, note=text, public=True,
           actor="citizen", now=now)  # fmt: skip
    category = session.get_one(ReportCategory, report.category_id)
    unit = session.get_one(Unit, report.unit_id)
    publish(session, topics.REOPENED, topics.payload(report, category, unit, now),
            unit_id=report.unit_id)  # fmt: skip
    return report


def rate(
    session: Session, report: CitizenReport, token: str, rating: int, comment: str | None
) -> CitizenReport:
    """The citizen's satisfaction (1-5, a comment) once the report is resolved; once."""
    if not secrets.compare_digest(token, report.token):
        raise Forbidden("This link does not belong to this report.", code="bad_token")
    if report.status not in (Status.RESOLVED, Status.CLOSED):
        raise Conflict(f"{report.code} is not resolved yet.", code="not_resolved")
    if report.rating is not None:
        raise Conflict(f"{report.code} was rated already.", code="already_rated")
    if not 1 <= rating <= 5:
        raise InvalidInput("rating: from 1 to 5.", code="invalid_rating")
    report.rating = rating
    report.rating_comment = _checked_text(comment, "comment", 2000)
    return report


def _event(
    session: Session,
    report: CitizenReport,
    action: str,
    before: str | None,
    after: str | None,
    *,
    note: str | None = None,
    public: bool = False,
    actor: str | None = None,
    now: datetime,
) -> None:
    session.add(
        ReportEvent(
            report_id=report.id, at=now, actor=actor or get_actor(session).name, action=action,
            from_status=before, to_status=after, unit_id=report.unit_id, note=note,
            public=public,
        )
    )  # fmt: skip


# --- the deadline watch ----------------------------------------------------------------------


def watch_deadlines(session: Session, settings: Settings, now: datetime | None = None) -> str:
    """Open reports past their deadline become overdue (once), then, past
    ``citizen.escalate_after_hours`` more, escalate to the province (once); resolved reports
    past their reopening window close. The caller commits."""
    now = now or utcnow()
    late = session.scalars(
        select(CitizenReport).where(
            CitizenReport.status.in_([s.value for s in OPEN_STATUSES]),
            CitizenReport.due_at < now,
            CitizenReport.escalated_at.is_(None),
        )
    ).all()
    overdue = escalated = closed = 0
    escalate_after = timedelta(hours=settings.citizen.escalate_after_hours)
    for report in late:
        category = session.get_one(ReportCategory, report.category_id)
        unit = session.get_one(Unit, report.unit_id)
        if report.overdue_at is None:
            report.overdue_at = now
            overdue += 1
            _event(session, report, "overdue", report.status, report.status, now=now)
            publish(session, topics.OVERDUE, topics.payload(report, category, unit, now),
                    unit_id=report.unit_id)  # fmt: skip
        if now - report.due_at >= escalate_after:
            report.escalated_at = now
            escalated += 1
            _event(session, report, "escalate", report.status, report.status, now=now)
            publish(session, topics.ESCALATED, topics.payload(report, category, unit, now),
                    unit_id=report.unit_id)  # fmt: skip
    finished = session.scalars(
        select(CitizenReport).where(
            CitizenReport.status == Status.RESOLVED, CitizenReport.reopen_until < now
        )
    ).all()
    for report in finished:
        report.status, report.closed_at = Status.CLOSED, now
        closed += 1
        _event(session, report, "close", Status.RESOLVED, Status.CLOSED, now=now)
    return f"{overdue} overdue, {escalated} escalated, {closed} closed"


# --- Open311 keys ------------------------------------------------------------------------------


def issue_key(session: Session, principal: Principal, name: str) -> tuple[Open311Key, str]:
    if not principal.can(Permission.MANAGE_USERS):
        raise Forbidden("Only administrators issue Open311 keys.", code="forbidden")
    label = _checked_text(name, "name", 100)
    if not label:
        raise InvalidInput("name: say who the key is for.", code="missing_name")
    key = "o311_" + secrets.token_urlsafe(24)
    row = Open311Key(name=label, key_hash=key_hash(key), created_by=principal.username)
    session.add(row)
    session.flush()
    return row, key


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def valid_key(session: Session, key: str | None) -> Open311Key | None:
    if not key:
        return None
    row = session.scalar(select(Open311Key).where(Open311Key.key_hash == key_hash(key)))
    return row if row is not None and row.revoked_at is None else None
