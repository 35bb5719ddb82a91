"""Open311 GeoReport v2 at /open311/v2/: services, service definitions, requests (read and post),
tokens and discovery, in JSON and XML, with the spec's errors (``[{code, description}]``) and
status codes (400, 403 for a missing or bad api_key, 404). Public: reading needs nothing,
posting needs an api_key issued by an administrator (``POST /api/v1/open311/keys``).

Datetimes are ISO 8601 with the province's offset; ``expected_datetime`` is the deadline;
``agency_responsible`` the unit the report was routed to. Contact fields are never returned.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.citizen.categories import active_categories, get_category
from dieuhanh.citizen.intake import classify_and_file, throttle
from dieuhanh.citizen.models import (
    OPEN_STATUSES,
    Channel,
    CitizenReport,
    ReportCategory,
    with_category_and_unit,
)
from dieuhanh.citizen.service import Intake, valid_key
from dieuhanh.core.db.actor import Actor, set_actor
from dieuhanh.core.errors import DieuhanhError
from dieuhanh.core.http.deps import Db, get_runtime
from dieuhanh.core.uploads import read_body
from dieuhanh.units.models import Unit

router = APIRouter(prefix="/open311/v2", tags=["open311"])
FORMATS = {"json": "application/json", "xml": "text/xml; charset=utf-8"}
MAX_FORM_BYTES = 64 * 1024
STATUS = {True: "open", False: "closed"}
DEFAULT_DAYS = 90
MAX_ROWS = 1000


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def _answer(fmt: str, root: str, item: str, work: Callable[[], Any]) -> Response:
    """Run ``work`` and answer in ``fmt``; our errors become the spec's."""
    if fmt not in FORMATS:
        return _error("json", 404, f"Unknown format '{fmt[:10]}': use .json or .xml.")
    try:
        data = work()
    except Open311Error as exc:
        return _error(fmt, exc.status, exc.description)
    except DieuhanhError as exc:
        # The spec's codes: 404 missing, 403 no right; 429 a flood (beyond the spec); else 400.
        status = (
            exc.status if exc.status in (404, 429) else 403 if exc.status in (401, 403) else 400
        )
        return _error(fmt, status, exc.message)
    return _render(fmt, root, item, data, 200)


def _error(fmt: str, status: int, description: str) -> Response:
    return _render(fmt, "errors", "error", [{"code": status, "description": description}], status)


def _render(fmt: str, root: str, item: str, data: Any, status: int) -> Response:
    if fmt == "json":
        return JSONResponse(data, status_code=status)
    element = ElementTree.Element(root)
    for entry in data if isinstance(data, list) else [data]:
        _xml_into(ElementTree.SubElement(element, item) if isinstance(data, list) else element,
                  entry)  # fmt: skip
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(element, "utf-8")
    return Response(body, status_code=status, media_type=FORMATS["xml"])


# Lists in XML: the element name of their items.
_XML_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint",
              "formats": "format"}  # fmt: skip


def _xml_into(parent: ElementTree.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            child = ElementTree.SubElement(parent, key)
            if isinstance(inner, list):
                for entry in inner:
                    _xml_into(ElementTree.SubElement(child, _XML_ITEMS.get(key, "item")), entry)
            else:
                _xml_into(child, inner)
    elif value is not None:
        parent.text = str(value).lower() if isinstance(value, bool) else str(value)


def _iso(moment: datetime | None, request: Request) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(get_runtime(request).settings.zone).isoformat(timespec="seconds")


# --- discovery and services --------------------------------------------------------------------


@router.get("/discovery.{fmt}", summary="Open311 discovery")
def discovery(fmt: str, request: Request, db: Db) -> Response:
    base = str(request.base_url).rstrip("/") + "/open311/v2/"
    return _answer(fmt, "discovery", "discovery", lambda: {
        "changeset": "2026-12-03T00:00:00+07:00",
        "contact": "Trung tâm giám sát, điều hành thông minh tỉnh (IOC)",
        "key_service": "Khóa API do quản trị viên cấp tại /api/v1/open311/keys",
        "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base,
                       "changeset": "2026-12-03T00:00:00+07:00", "type": "production",
                       "formats": ["application/json", "text/xml"]}],
    })  # fmt: skip


def _service(category: ReportCategory) -> dict[str, Any]:
    return {
        "service_code": category.code, "service_name": category.name,
        "description": category.description or category.name_en,
        "metadata": bool(category.fields), "type": "realtime",
        "keywords": category.keywords, "group": category.group,
    }  # fmt: skip


@router.get("/services.{fmt}", summary="Open311 services (report categories)")
def services(fmt: str, db: Db) -> Response:
    return _answer(fmt, "services", "service",
                   lambda: [_service(c) for c in active_categories(db)])  # fmt: skip


@router.get("/services/{code}.{fmt}", summary="Open311 service definition")
def service_definition(code: str, fmt: str, db: Db) -> Response:
    def work() -> dict[str, Any]:
        category = next((c for c in active_categories(db) if c.code == code), None)
        if category is None:
            raise Open311Error(404, f"No service '{code[:40]}'.")
        attributes = [
            {"variable": True, "code": item["code"], "datatype": item["datatype"],
             "required": bool(item.get("required")), "datatype_description": "",
             "order": order, "description": item.get("description", item["code"]),
             **({"values": item["values"]} if item.get("values") else {})}
            for order, item in enumerate(category.fields or [], start=1)
        ]  # fmt: skip
        return {"service_code": category.code, "attributes": attributes}

    return _answer(fmt, "service_definition", "service_definition", work)


# --- requests ----------------------------------------------------------------------------------


def _request_out(
    report: CitizenReport, category: ReportCategory, unit: Unit, request: Request
) -> dict[str, Any]:
    return {
        "service_request_id": report.code,
        "status": STATUS[report.status in OPEN_STATUSES],
        "status_notes": report.answer,
        "service_name": category.name,
        "service_code": category.code,
        "description": report.description,
        "agency_responsible": unit.name,
        "service_notice": None,
        "requested_datetime": _iso(report.received_at, request),
        "updated_datetime": _iso(report.updated_at, request),
        "expected_datetime": _iso(report.due_at, request),
        "address": report.address,
        "address_id": None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.lon,
        "media_url": None,
    }


def _query(db: Session, where: list[Any]) -> list[tuple[CitizenReport, ReportCategory, Unit]]:
    rows = db.execute(
        with_category_and_unit()
        .where(*where)
        .order_by(CitizenReport.received_at.desc())
        .limit(MAX_ROWS)
    ).all()
    return [(r, c, u) for r, c, u in rows]


@router.get("/requests.{fmt}", summary="Open311 service requests (the last 90 days by default)")
def list_requests(fmt: str, request: Request, db: Db) -> Response:
    params = {k: v for k, v in request.query_params.items() if v != ""}

    def work() -> list[dict[str, Any]]:
        where: list[Any] = []
        if "service_request_id" in params:
            codes = [c.strip() for c in params["service_request_id"].split(",") if c.strip()]
            where.append(CitizenReport.code.in_(codes[:MAX_ROWS]))
        else:
            end = _datetime(params.get("end_date"), "end_date") or datetime.now().astimezone()
            start = _datetime(params.get("start_date"), "start_date") or end - timedelta(
                days=DEFAULT_DAYS
            )
            if end - start > timedelta(days=DEFAULT_DAYS) or end < start:
                raise Open311Error(400, "start_date and end_date: at most 90 days apart, in order.")
            where += [CitizenReport.received_at >= start, CitizenReport.received_at <= end]
            if "service_code" in params:
                codes = [c.strip() for c in params["service_code"].split(",")]
                where.append(ReportCategory.code.in_(codes))
            if "status" in params:
                wanted = {s.strip() for s in params["status"].split(",")}
                if not wanted <= {"open", "closed"}:
                    raise Open311Error(400, "status: open, closed or both.")
                if wanted == {"open"}:
                    where.append(CitizenReport.status.in_([s.value for s in OPEN_STATUSES]))
                elif wanted == {"closed"}:
                    where.append(CitizenReport.status.not_in([s.value for s in OPEN_STATUSES]))
        return [_request_out(r, c, u, request) for r, c, u in _query(db, where)]

    return _answer(fmt, "service_requests", "request", work)


@router.get("/requests/{code}.{fmt}", summary="One Open311 service request")
def get_request(code: str, fmt: str, request: Request, db: Db) -> Response:
    def work() -> list[dict[str, Any]]:
        found = _query(db, [CitizenReport.code == code])
        if not found:
            raise Open311Error(404, f"No service request '{code[:40]}'.")
        return [_request_out(*found[0], request)]

    return _answer(fmt, "service_requests", "request", work)


@router.get("/tokens/{token}.{fmt}", summary="The service request id of a token")
def token_lookup(token: str, fmt: str, db: Db) -> Response:
    def work() -> list[dict[str, Any]]:
        code = db.scalar(select(CitizenReport.code).where(CitizenReport.token == token))
        if code is None:
            raise Open311Error(404, "No service request has this token.")
        return [{"service_request_id": code, "token": token}]

    return _answer(fmt, "service_requests", "request", work)


_ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_]{1,40})\](\[\])?$")


@router.post("/requests.{fmt}", summary="Post a service request (needs api_key)")
async def post_request(fmt: str, request: Request, db: Db) -> Response:
    body = await read_body(request, MAX_FORM_BYTES, "The request is larger than 64 KB.",
                           code="too_large")  # fmt: skip
    runtime = get_runtime(request)

    def work() -> list[dict[str, Any]]:
        from urllib.parse import parse_qsl

        try:
            fields = parse_qsl(body.decode("utf-8"), keep_blank_values=False, max_num_fields=100)
        except (UnicodeDecodeError, ValueError) as exc:
            raise Open311Error(400, f"The body is not a UTF-8 form: {exc}.") from None
        form: dict[str, str] = {}
        attributes: dict[str, Any] = {}
        for key, value in fields:
            match = _ATTRIBUTE.match(key)
            if match:
                attributes[match.group(1)] = value
            else:
                form[key] = value
        api_key = valid_key(db, form.get("api_key"))
        if api_key is None:
            raise Open311Error(403, "api_key missing or not valid: ask the IOC for one.")
        throttle(runtime, request, f"open311:{api_key.id}")
        if "service_code" not in form:
            raise Open311Error(400, "service_code is required.")
        get_category(db, form["service_code"])  # 400 naming the codes
        set_actor(db, Actor(name=f"open311:{api_key.name}", via="open311"))
        intake = Intake(
            category=form["service_code"],
            description=form.get("description", ""),
            lat=_float(form.get("lat"), "lat"),
            lon=_float(form.get("long"), "long"),
            address=form.get("address_string"),
            contact_name=" ".join(
                part for part in (form.get("first_name"), form.get("last_name")) if part
            )
            or None,
            contact_phone=form.get("phone"),
            contact_email=form.get("email"),
            attributes=attributes,
            external_id=form.get("device_id"),
        )
        report = classify_and_file(db, runtime, intake, Channel.OPEN311)
        db.commit()
        return [{"service_request_id": report.code, "token": report.token,
                 "service_notice": None, "account_id": None}]  # fmt: skip

    return await run_in_threadpool(_answer, fmt, "service_requests", "request", work)


def _float(text: str | None, name: str) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise Open311Error(400, f"{name}: '{text[:20]}' is not a number.") from None
    if value != value or abs(value) > 180:
        raise Open311Error(400, f"{name}: {text[:20]} is out of range.")
    return value


def _datetime(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name}: '{text[:30]}' is not an ISO 8601 datetime.") from None
    return moment if moment.tzinfo else moment.astimezone()
