"""The public side, no login: the report form (Vietnamese, for a phone; category, description,
photos, a pin on the map or an address, a phone or e-mail to follow up), the tracking page of a
report by its code (status, the unit handling it, the deadline, the answer, the public history,
reviewed photos) and, for whoever holds the report's link, the rating and the reopening.

Nothing personal is shown: not the contact, not the address typed; the map point of a public
report is rounded to about 100 m.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from dieuhanh.citizen import photos
from dieuhanh.citizen.categories import active_categories
from dieuhanh.citizen.classifier import CONFIDENT, suggest
from dieuhanh.citizen.intake import refresh_classifier, throttle
from dieuhanh.citizen.models import (
    OPEN_STATUSES,
    Channel,
    CitizenReport,
    ReportCategory,
    ReportEvent,
    ReportPhoto,
    with_category_and_unit,
)
from dieuhanh.citizen.service import Intake, file_report, get_report, rate, reopen_by_citizen
from dieuhanh.core.db.actor import Actor, set_actor
from dieuhanh.core.errors import DieuhanhError, NotFound
from dieuhanh.core.http import bodylimit
from dieuhanh.core.http.deps import Db, client_ip, get_runtime
from dieuhanh.core.uploads import read_upload
from dieuhanh.core.web.shell import render
from dieuhanh.gis.service import children_collection
from dieuhanh.units.models import Unit
from dieuhanh.units.service import get_unit

router = APIRouter(include_in_schema=False)
MAX_FORM_BYTES = photos.MAX_PHOTOS * photos.MAX_BYTES + 64 * 1024
FIELDS = ("category", "description", "lat", "long", "address", "phone", "email", "name")


@router.get("/phan-anh", response_class=HTMLResponse)
def report_form(request: Request, db: Db) -> Response:
    return _form(request, db, {}, None)


def _form(
    request: Request, db: Db, values: dict[str, Any], error: str | None, status: int = 200
) -> Response:
    values = {"attributes": {}, **values}
    return render(request, "citizen/form.html", None, status_code=status,
                  categories=active_categories(db), values=values, error=error,
                  max_photos=photos.MAX_PHOTOS)  # fmt: skip


@router.post("/phan-anh", response_class=HTMLResponse)
async def report_submit(request: Request, db: Db) -> Response:
    runtime = get_runtime(request)
    bodylimit.allow(request, MAX_FORM_BYTES)
    form = await request.form(max_files=photos.MAX_PHOTOS, max_fields=len(FIELDS) + 20)
    try:
        values: dict[str, Any] = {key: str(form.get(key) or "")[:4000] for key in FIELDS}
        values["attributes"] = {
            key[len("attribute[") : -1]: value[:500]
            for key, value in form.multi_items()
            if key.startswith("attribute[") and key.endswith("]") and isinstance(value, str)
            and value
        }  # fmt: skip
        files = [item for item in form.getlist("photos") if isinstance(item, UploadFile)]
        try:
            throttle(runtime, request)
            pictures = [
                await run_in_threadpool(read_upload, item, photos.MAX_BYTES)
                for item in files
                if item.filename
            ]
            report = await run_in_threadpool(_file, db, runtime, request, values, pictures)
        except DieuhanhError as exc:
            db.rollback()
            return _form(request, db, values, exc.message, status=exc.status)
    finally:
        await form.close()
    return RedirectResponse(f"/phan-anh/{report.code}?t={report.token}", status_code=303)


def _file(
    db: Db, runtime: Any, request: Request, values: dict[str, Any], pictures: list[Any]
) -> Any:
    set_actor(db, Actor(name="citizen", via="web", client_ip=client_ip(request)))
    description = values["description"]
    refresh_classifier(runtime)
    suggestion = suggest(description)
    category = values["category"]
    if not category:  # "I don't know": the suggestion when sure enough, else "other"
        category = suggestion[0] if suggestion and suggestion[1] >= CONFIDENT else "other"
    # A category's own questions count only when the citizen chose it.
    attributes = values["attributes"] if values["category"] else {}
    intake = Intake(
        category=category, description=description, lat=_number(values["lat"]),
        lon=_number(values["long"]), address=values["address"] or None,
        contact_name=values["name"] or None, contact_phone=values["phone"] or None,
        contact_email=values["email"] or None, attributes=attributes,
    )  # fmt: skip
    report = file_report(db, runtime.settings, intake, Channel.WEB, suggestion=suggestion)
    photos.store(db, runtime.settings.data_dir, report, [(data, name) for data, name in pictures])
    db.commit()
    return report


def _number(text: str) -> float | None:
    try:
        return float(text) if text.strip() else None
    except ValueError:
        return None


PUBLIC_ROWS = 200
HIDDEN = ("refused", "duplicate")  # not shown publicly: not a matter, or told already


@router.get("/phan-anh/danh-sach", response_class=HTMLResponse)
def public_list(request: Request, db: Db, category: str = "", status: str = "") -> Response:
    """The latest reports, for anyone: no contact, no typed address, points rounded."""
    reports = _public_reports(db, category, status)
    filters = {"category": category, "status": status}
    return render(request, "citizen/public_list.html", None, reports=reports,
                  categories=active_categories(db), filters=filters)  # fmt: skip


@router.get("/phan-anh/danh-sach.json")
def public_points(db: Db, category: str = "", status: str = "") -> JSONResponse:
    """The same reports as GeoJSON points for the public map, rounded to about 100 m."""
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
         "properties": {k: row[k] for k in ("code", "category", "status")}}
        for row in _public_reports(db, category, status) if row["lat"] is not None
    ]  # fmt: skip
    return JSONResponse({"type": "FeatureCollection", "features": features})


def _public_reports(db: Db, category: str, status: str) -> list[dict[str, Any]]:
    query = (
        with_category_and_unit()
        .where(CitizenReport.status.not_in(HIDDEN))
        .order_by(CitizenReport.received_at.desc())
        .limit(PUBLIC_ROWS)
    )
    if category:
        query = query.where(ReportCategory.code == category[:40])
    if status == "open":
        query = query.where(CitizenReport.status.in_([s.value for s in OPEN_STATUSES]))
    elif status == "done":
        query = query.where(CitizenReport.status.in_(["resolved", "closed"]))
    return [
        {"code": r.code, "category": c.name, "status": r.status, "unit": u.name,
         "received_at": r.received_at, "description": r.description, "lat": _rounded(r.lat),
         "lon": _rounded(r.lon), "rating": r.rating}
        for r, c, u in db.execute(query)
    ]  # fmt: skip


def _rounded(value: float | None) -> float | None:
    # Three decimals: about 110 m of latitude — the street, not the house.
    return None if value is None else round(value, 3)


@router.get("/phan-anh/ban-do.json")
def communes_map(request: Request, db: Db) -> JSONResponse:
    """The communes' boundaries, for the form's map (public geography, no one's data)."""
    province = get_unit(db, get_runtime(request).settings.province_code)
    return JSONResponse(children_collection(db, province),
                        headers={"Cache-Control": "public, max-age=3600"})  # fmt: skip


@router.get("/phan-anh/anh/{photo_id}")
def public_photo(photo_id: int, request: Request, db: Db) -> Response:
    photo = db.get(ReportPhoto, photo_id)
    if photo is None or not photo.approved:
        raise NotFound("No such photo.", code="photo_not_found")
    path = photos.folder(get_runtime(request).settings.data_dir) / photo.path
    return FileResponse(path, media_type=photo.content_type)


@router.get("/phan-anh/{code}", response_class=HTMLResponse)
def track(code: str, request: Request, db: Db, t: str = "", done: str = "") -> Response:
    report = get_report(db, code)
    owner = bool(t) and secrets.compare_digest(t, report.token)
    category = db.get_one(ReportCategory, report.category_id)
    unit = db.get_one(Unit, report.unit_id)
    events = db.scalars(
        select(ReportEvent)
        .where(ReportEvent.report_id == report.id, ReportEvent.public)
        .order_by(ReportEvent.id)
    ).all()
    shown = db.scalars(
        select(ReportPhoto).where(ReportPhoto.report_id == report.id, ReportPhoto.approved)
    ).all()
    return render(request, "citizen/track.html", None, report=report, category=category,
                  unit=unit, events=events, photos=shown, owner=owner, token=t if owner else "",
                  done=done)  # fmt: skip


@router.post("/phan-anh/{code}/danh-gia", response_class=HTMLResponse)
def rate_submit(
    code: str,
    db: Db,
    t: Annotated[str, Form(max_length=60)] = "",
    rating: Annotated[int, Form(ge=1, le=5)] = 5,
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    set_actor(db, Actor(name="citizen", via="web"))
    rate(db, get_report(db, code), t, rating, comment)
    db.commit()
    return RedirectResponse(f"/phan-anh/{code}?t={t}&done=rated", status_code=303)


@router.post("/phan-anh/{code}/mo-lai", response_class=HTMLResponse)
def reopen_submit(
    code: str,
    db: Db,
    t: Annotated[str, Form(max_length=60)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    set_actor(db, Actor(name="citizen", via="web"))
    reopen_by_citizen(db, get_report(db, code), t, reason)
    db.commit()
    return RedirectResponse(f"/phan-anh/{code}?t={t}&done=reopened", status_code=303)
