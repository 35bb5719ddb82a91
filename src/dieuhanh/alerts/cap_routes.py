"""Emergency broadcasts: staff issue them (``/api/v1/emergencies``); the CAP feed and messages
are public (``/api/v1/cap/...``), as CAP feeds are meant to be read by anyone's receiver."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select

from dieuhanh.alerts.cap import CancelIn, EmergencyIn, EmergencyUpdate, atom_feed, follow_up
from dieuhanh.alerts.cap import publish_emergency as publish_cap
from dieuhanh.alerts.models import CapMessage
from dieuhanh.core.access import Permission, require
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import NotFound
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router

router = api_router("emergency broadcasts (CAP 1.2)")
public = api_router("emergency broadcasts (CAP 1.2)", public=True)
CAP_TYPE = "application/cap+xml; charset=utf-8"
FEED_LENGTH = 100
SENDER_NAME = "Trung tâm Giám sát, điều hành thông minh"


class MessageOut(BaseModel):
    identifier: str
    emergency: str
    msg_type: str
    headline: str
    sent: datetime
    expires: datetime | None
    unit_codes: list[str]
    url: str


def _out(message: CapMessage) -> MessageOut:
    return MessageOut(
        identifier=message.identifier, emergency=message.emergency, msg_type=message.msg_type,
        headline=message.headline, sent=message.sent, expires=message.expires,
        unit_codes=list(message.unit_codes), url=f"/api/v1/cap/{message.identifier}.xml",
    )  # fmt: skip


@router.post(
    "/emergencies",
    response_model=MessageOut,
    status_code=201,
    summary="Issue an emergency broadcast (a CAP 1.2 Alert)",
    description="The CAP enumerations' own values for category, urgency, severity and "
    "certainty; the area is the units' boundaries and codes. The answer's `identifier` is the "
    "CAP identifier. `manage_alerts`.",
)
def issue(body: EmergencyIn, request: Request, db: Db, principal: CurrentPrincipal) -> MessageOut:
    require(principal, Permission.MANAGE_ALERTS)
    settings = get_runtime(request).settings
    message = publish_cap(db, body, sender=settings.alerts.cap_sender, sender_name=SENDER_NAME,
                          zone=settings.timezone, by=principal.username, now=utcnow())  # fmt: skip
    db.commit()
    return _out(message)


@router.post("/emergencies/{identifier}/update", response_model=MessageOut, status_code=201,
             summary="Update an emergency (a CAP Update citing the messages before)")  # fmt: skip
def update(
    identifier: str, body: EmergencyUpdate, request: Request, db: Db, principal: CurrentPrincipal
) -> MessageOut:
    return _follow_up(identifier, "Update", body.model_dump(exclude_unset=True), None, request,
                      db, principal)  # fmt: skip


@router.post("/emergencies/{identifier}/cancel", response_model=MessageOut, status_code=201,
             summary="Cancel an emergency (a CAP Cancel citing the messages before)")  # fmt: skip
def cancel(
    identifier: str, request: Request, db: Db, principal: CurrentPrincipal,
    body: CancelIn | None = None,
) -> MessageOut:  # fmt: skip
    return _follow_up(identifier, "Cancel", {}, (body or CancelIn()).note, request, db, principal)


def _follow_up(
    identifier: str, msg_type: Literal["Update", "Cancel"], changes: dict[str, Any],
    note: str | None, request: Request, db: Db, principal: CurrentPrincipal,
) -> MessageOut:  # fmt: skip
    require(principal, Permission.MANAGE_ALERTS)
    settings = get_runtime(request).settings
    message = follow_up(db, identifier, msg_type, changes, note, sender=settings.alerts.cap_sender,
                        zone=settings.timezone, by=principal.username, now=utcnow())  # fmt: skip
    db.commit()
    return _out(message)


@router.get("/emergencies", response_model=list[MessageOut], summary="Emergency messages")
def messages(db: Db) -> list[MessageOut]:
    rows = db.scalars(select(CapMessage).order_by(CapMessage.id.desc()).limit(500))
    return [_out(m) for m in rows]


@public.get("/cap/feed.xml", response_class=Response, summary="The CAP Atom feed (public)",
            responses={200: {"content": {"application/atom+xml": {}}}})  # fmt: skip
def feed(request: Request, db: Db) -> Response:
    settings = get_runtime(request).settings
    rows = list(db.scalars(select(CapMessage).order_by(CapMessage.id.desc()).limit(FEED_LENGTH)))
    xml = atom_feed(rows, settings.alerts.cap_public_url, settings.timezone,
                    "Cảnh báo khẩn cấp — " + SENDER_NAME, SENDER_NAME)  # fmt: skip
    return Response(xml, media_type="application/atom+xml; charset=utf-8")


@public.get("/cap/{identifier}.xml", response_class=Response,
            summary="One CAP 1.2 message (public)",
            responses={200: {"content": {"application/cap+xml": {}}}})  # fmt: skip
def one(identifier: str, db: Db) -> Response:
    message = db.scalar(select(CapMessage).where(CapMessage.identifier == identifier[:120]))
    if message is None:
        raise NotFound(f"No CAP message '{identifier[:120]}'.", code="cap_not_found")
    return Response(message.xml, media_type=CAP_TYPE)
