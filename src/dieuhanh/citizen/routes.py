"""The staff API of citizen reports: the list within one's unit scope, one report with its
history and contact, the steps of handling, a 1022 call typed in, categories, Open311 keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from dieuhanh.citizen import photos as photo_files
from dieuhanh.citizen.categories import active_categories
from dieuhanh.citizen.duplicates import possible_duplicates
from dieuhanh.citizen.intake import classify_and_file
from dieuhanh.citizen.models import (
    Channel,
    CitizenReport,
    Open311Key,
    ReportCategory,
    ReportEvent,
    ReportPhoto,
    with_category_and_unit,
)
from dieuhanh.citizen.service import Intake, Step, get_report, issue_key, take_step
from dieuhanh.citizen.statistics import figures
from dieuhanh.core.access import Permission, Principal, authorize, require
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import InvalidInput, NotFound
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.text import fold
from dieuhanh.indicators.catalog.periods import PeriodError, PeriodType, parse_period, period_of
from dieuhanh.units.models import Unit
from dieuhanh.units.service import find_unit

router = api_router("citizen reports")


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    name_en: str
    group: str
    handled_by: str
    department_code: str | None
    deadline_days: int
    urgent_hours: int
    fields: list[dict[str, Any]]


class ReportIn(BaseModel):
    """A report typed by staff (a 1022 call) or sent by a unit's system."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(max_length=40)
    description: str = Field(max_length=4000)
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=300)
    urgent: bool = False
    contact_name: str | None = Field(default=None, max_length=100)
    contact_phone: str | None = Field(default=None, max_length=20)
    contact_email: str | None = Field(default=None, max_length=120)
    attributes: dict[str, str] = Field(default_factory=dict)
    external_id: str | None = Field(default=None, max_length=60)


class EventOut(BaseModel):
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    unit: str | None
    note: str | None
    public: bool


class ReportOut(BaseModel):
    code: str
    status: str
    category: str
    category_name: str
    suggested_category: str | None
    confidence: float | None
    channel: str
    description: str
    attributes: dict[str, Any]
    lat: float | None
    long: float | None
    address: str | None
    located_by: str
    unit: str
    unit_name: str
    neighbours: list[dict[str, str]]
    urgent: bool
    assignee: str | None
    answer: str | None
    duplicate_of: str | None
    received_at: datetime
    due_at: datetime
    overdue: bool
    escalated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    contact: dict[str, str | None]
    events: list[EventOut] | None = None
    # In one report's answer: open reports nearby with similar words, and its photos.
    possible_duplicates: list[dict[str, Any]] | None = None
    photos: list[dict[str, Any]] | None = None


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=4000)
    public: bool = False
    assignee: str | None = Field(default=None, max_length=100)
    unit: str | None = Field(default=None, max_length=32)
    duplicate_of: str | None = Field(default=None, max_length=20)
    category: str | None = Field(default=None, max_length=40)


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)


@router.get("/citizen/categories", response_model=list[CategoryOut], summary="Report categories")
def list_categories(db: Db) -> list[ReportCategory]:
    return active_categories(db)


class CategoryIn(BaseModel):
    """What an administrator may change in a category; its code stays (the Open311 contract)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    name_en: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=2000)
    group: str | None = Field(default=None, max_length=60)
    keywords: str | None = Field(default=None, max_length=1000)
    handled_by: Literal["commune", "department"] | None = None
    department_code: str | None = Field(default=None, max_length=32)
    deadline_days: int | None = Field(default=None, ge=1, le=90)
    urgent_hours: int | None = Field(default=None, ge=1, le=720)
    active: bool | None = None


@router.put(
    "/citizen/categories/{code}",
    response_model=CategoryOut,
    summary="Change a report category (names, handling unit, deadlines, active)",
    description="Only the fields given change; the code stays. A category handled by a "
    "department names an existing department. Administrators of reference data.",
)
def change_category(
    code: str, body: CategoryIn, db: Db, principal: CurrentPrincipal
) -> ReportCategory:
    require(principal, Permission.MANAGE_REFERENCE)
    category = db.scalar(select(ReportCategory).where(ReportCategory.code == code))
    if category is None:
        raise NotFound(f"No category '{code[:40]}'.", code="unknown_category")
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(category, name, value)
    if category.handled_by == "department":
        department = find_unit(db, category.department_code or "")
        if department is None or department.type != "department":
            raise InvalidInput(
                f"department_code: '{category.department_code}' is not a department.",
                code="unknown_department",
            )
    db.commit()
    return category


@router.get(
    "/citizen/reports",
    response_model=list[ReportOut],
    summary="Citizen reports within my unit scope, newest first",
    description="Filters: `status` (comma list), `category`, `unit` (code), `q` (words of the "
    "description, diacritics ignored), `overdue=true`. At most `limit` (200).",
)
def list_reports(
    db: Db,
    principal: CurrentPrincipal,
    status: Annotated[str | None, Query(max_length=100)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    unit: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReportOut]:
    query = (
        with_category_and_unit()
        .where(principal.read_scope.where(CitizenReport.unit_id))
        .order_by(CitizenReport.received_at.desc(), CitizenReport.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(CitizenReport.status.in_([s.strip() for s in status.split(",")]))
    if category:
        query = query.where(ReportCategory.code == category)
    if unit:
        query = query.where(Unit.code == unit)
    if overdue:
        query = query.where(CitizenReport.overdue_at.is_not(None))
    rows = db.execute(query).all()
    if q:  # diacritics ignored: compared on folded text, in Python (the page is short)
        words = fold(q).split()
        rows = [row for row in rows if all(w in fold(row[0].description) for w in words)]
    return [_out(db, report, cat, u) for report, cat, u in rows]


@router.post("/citizen/reports", response_model=ReportOut, status_code=201,
             summary="Enter a report (a 1022 call, or a unit's own system)")  # fmt: skip
def enter_report(
    body: ReportIn, request: Request, db: Db, principal: CurrentPrincipal
) -> ReportOut:
    require(principal, Permission.WRITE_OWN)
    intake = Intake(
        category=body.category, description=body.description, lat=body.lat, lon=body.long,
        address=body.address, urgent=body.urgent, contact_name=body.contact_name,
        contact_phone=body.contact_phone, contact_email=body.contact_email,
        attributes=body.attributes, external_id=body.external_id,
    )  # fmt: skip
    report = classify_and_file(db, get_runtime(request), intake, Channel.HOTLINE)
    db.commit()
    return _detail(db, principal, report)


@router.get("/citizen/reports/{code}", response_model=ReportOut, summary="One report, its history")
def read_report(code: str, db: Db, principal: CurrentPrincipal) -> ReportOut:
    return _detail(db, principal, get_report(db, code))


@router.post(
    "/citizen/reports/{code}/{action}",
    response_model=ReportOut,
    summary="A step of handling",
    description="`action`: accept, refuse (note: the reason), assign (assignee), start, "
    "resolve (note: the answer, public), close, reopen, duplicate (duplicate_of, note), transfer "
    "(unit, note: the reason), categorize (category: confirm or correct it; the suggestion "
    "learns from it), note (an internal note, or public=true for a public one). Staff of "
    "the report's unit or the province.",
)
def step(
    code: str, action: str, body: StepIn, request: Request, db: Db, principal: CurrentPrincipal
) -> ReportOut:
    report = get_report(db, code)
    take_step(db, get_runtime(request).settings, principal, report,
              Step(action=action, **body.model_dump()))  # fmt: skip
    db.commit()
    return _detail(db, principal, report)


def _detail(db: Db, principal: Principal, report: CitizenReport) -> ReportOut:
    unit = db.get_one(Unit, report.unit_id)
    authorize(principal, "read", unit.id, unit.name)
    category = db.get_one(ReportCategory, report.category_id)
    out = _out(db, report, category, unit)
    events = db.scalars(
        select(ReportEvent).where(ReportEvent.report_id == report.id).order_by(ReportEvent.id)
    )
    codes = dict(db.execute(select(Unit.id, Unit.code)).all())
    out.events = [
        EventOut(at=e.at, actor=e.actor, action=e.action, from_status=e.from_status,
                 to_status=e.to_status, unit=codes.get(e.unit_id or 0), note=e.note,
                 public=e.public)
        for e in events
    ]  # fmt: skip
    out.possible_duplicates = [c.__dict__ for c in possible_duplicates(db, report)]
    out.photos = [
        {"id": p.id, "approved": p.approved, "content_type": p.content_type,
         "width": p.width, "height": p.height, "url": f"/api/v1/citizen/photos/{p.id}"}
        for p in db.scalars(select(ReportPhoto).where(ReportPhoto.report_id == report.id))
    ]  # fmt: skip
    return out


def _out(db: Db, report: CitizenReport, category: ReportCategory, unit: Unit) -> ReportOut:
    neighbours = (
        db.execute(select(Unit.code, Unit.name).where(Unit.id.in_(report.neighbour_unit_ids))).all()
        if report.neighbour_unit_ids
        else []
    )
    original = db.get(CitizenReport, report.duplicate_of_id) if report.duplicate_of_id else None
    return ReportOut(
        code=report.code, status=report.status, category=category.code,
        category_name=category.name, suggested_category=report.suggested_category,
        confidence=report.confidence, channel=report.channel, description=report.description,
        attributes=report.attributes or {}, lat=report.lat, long=report.lon,
        address=report.address, located_by=report.located_by, unit=unit.code,
        unit_name=unit.name, neighbours=[{"code": c, "name": n} for c, n in neighbours],
        urgent=report.urgent, assignee=report.assignee, answer=report.answer,
        duplicate_of=original.code if original else None, received_at=report.received_at,
        due_at=report.due_at, overdue=report.overdue_at is not None,
        escalated_at=report.escalated_at, resolved_at=report.resolved_at,
        closed_at=report.closed_at, rating=report.rating,
        contact={"name": report.contact_name, "phone": report.contact_phone,
                 "email": report.contact_email},
    )  # fmt: skip


# --- Open311 keys ------------------------------------------------------------------------------


class KeyOut(BaseModel):
    id: int
    name: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


@router.post("/open311/keys", status_code=201, summary="Issue an Open311 api_key (shown once)")
def create_key(body: KeyIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    row, key = issue_key(db, principal, body.name)
    db.commit()
    return {"id": row.id, "name": row.name, "api_key": key}


@router.get("/open311/keys", response_model=list[KeyOut], summary="Open311 keys (never the key)")
def list_keys(db: Db, principal: CurrentPrincipal) -> list[KeyOut]:
    require(principal, Permission.MANAGE_USERS)
    rows = db.scalars(select(Open311Key).order_by(Open311Key.id))
    return [KeyOut(id=r.id, name=r.name, created_by=r.created_by, created_at=r.created_at,
                   revoked_at=r.revoked_at) for r in rows]  # fmt: skip


@router.post("/open311/keys/{key_id}/revoke", response_model=KeyOut, summary="Revoke a key")
def revoke_key(key_id: int, db: Db, principal: CurrentPrincipal) -> KeyOut:
    require(principal, Permission.MANAGE_USERS)
    row = db.get(Open311Key, key_id)
    if row is None:
        raise NotFound(f"No Open311 key {key_id}.", code="key_not_found")
    row.revoked_at = row.revoked_at or utcnow()
    db.commit()
    return KeyOut(id=row.id, name=row.name, created_by=row.created_by,
                  created_at=row.created_at, revoked_at=row.revoked_at)  # fmt: skip


class StatisticsOut(BaseModel):
    unit: str
    unit_name: str
    category: str
    received: int
    on_time: int
    late: int
    open: int
    satisfaction: float | None


@router.get(
    "/citizen/statistics",
    response_model=list[StatisticsOut],
    summary="Reports per unit and category for a month: received, on time, late, satisfaction",
    description="`period`: a month (`202612`), default this month; within my unit scope.",
)
def statistics(
    request: Request,
    db: Db,
    principal: CurrentPrincipal,
    period: Annotated[str | None, Query(max_length=8)] = None,
) -> list[StatisticsOut]:
    runtime = get_runtime(request)
    try:
        month = parse_period(period) if period else period_of(PeriodType.MONTHLY, runtime.today())
    except PeriodError as exc:
        raise InvalidInput(f"period: {exc}", code="invalid_period") from None
    names = {
        code: (unit_id, name)
        for unit_id, code, name in db.execute(select(Unit.id, Unit.code, Unit.name))
    }
    out = []
    for (unit_code, category), cell in sorted(figures(db, runtime.settings, month).items()):
        unit_id, name = names[unit_code]
        if principal.read_scope.allows(unit_id):
            out.append(StatisticsOut(unit=unit_code, unit_name=name, category=category,
                                     received=cell.received, on_time=cell.on_time, late=cell.late,
                                     open=cell.open, satisfaction=cell.satisfaction))  # fmt: skip
    return out


@router.get("/citizen/photos/{photo_id}", summary="A report's photo (staff of its unit)")
def read_photo(photo_id: int, request: Request, db: Db, principal: CurrentPrincipal) -> Response:
    photo = db.get(ReportPhoto, photo_id)
    if photo is None:
        raise NotFound(f"No photo {photo_id}.", code="photo_not_found")
    report = db.get_one(CitizenReport, photo.report_id)
    unit = db.get_one(Unit, report.unit_id)
    authorize(principal, "read", unit.id, unit.name)
    path = photo_files.folder(get_runtime(request).settings.data_dir) / photo.path
    return FileResponse(path, media_type=photo.content_type)


@router.post(
    "/citizen/reports/{code}/photos/{photo_id}/approve",
    response_model=ReportOut,
    summary="Make a photo public (reviewed: no face, plate or house number to hide)",
)
def approve_photo(code: str, photo_id: int, db: Db, principal: CurrentPrincipal) -> ReportOut:
    report = get_report(db, code)
    unit = db.get_one(Unit, report.unit_id)
    authorize(principal, "write", unit.id, unit.name)
    photo = db.get(ReportPhoto, photo_id)
    if photo is None or photo.report_id != report.id:
        raise NotFound(f"No photo {photo_id} in {code}.", code="photo_not_found")
    photo.approved, photo.reviewed_by = True, principal.username
    db.commit()
    return _detail(db, principal, report)
