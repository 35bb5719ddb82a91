"""Emergency broadcasts as CAP 1.2 (OASIS Common Alerting Protocol).

An emergency is a chain of messages: the first ``Alert``, then ``Update``s and at most one
``Cancel``, each ``references``-ing every message before it (``sender,identifier,sent``
triplets). Messages are immutable once published. Each is checked against the OASIS schema
(shipped in ``schemas/``) before it is stored, so the feed never carries an invalid one.

The area of a message is one ``<area>`` per unit: its name, its boundary as CAP polygons
(``lat,lon`` pairs, closed, simplified to at most ``MAX_POLYGON_POINTS``) when imported, and a
geocode with the official unit code (``valueName`` ``DVHC``, đơn vị hành chính).
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any, Literal
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import xmlschema
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.alerts.models import CapMessage
from dieuhanh.core.errors import Conflict, InvalidInput, NotFound
from dieuhanh.gis.models import Boundary
from dieuhanh.units.models import Unit

NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM = "http://www.w3.org/2005/Atom"
MAX_POLYGON_POINTS = 400
MAX_UNITS = 200

Category = Literal["Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
                   "Transport", "Infra", "CBRNE", "Other"]  # fmt: skip
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
CapSeverity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]


class EmergencyIn(BaseModel):
    """An emergency broadcast: the CAP enumerations' own values."""

    model_config = ConfigDict(extra="forbid")

    headline: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=8000)
    instruction: str | None = Field(default=None, max_length=4000)
    event: str = Field(min_length=1, max_length=200, description="e.g. Lũ quét, Sạt lở đất")
    category: Category
    urgency: Urgency
    severity: CapSeverity
    certainty: Certainty
    unit_codes: list[str] = Field(min_length=1, max_length=MAX_UNITS)
    expires: datetime | None = Field(default=None, description="With a time zone.")
    status: Literal["Actual", "Exercise", "Test"] = "Actual"


class EmergencyUpdate(BaseModel):
    """What changes in an update (everything else is carried over from the last message)."""

    model_config = ConfigDict(extra="forbid")

    headline: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, min_length=1, max_length=8000)
    instruction: str | None = Field(default=None, max_length=4000)
    urgency: Urgency | None = None
    severity: CapSeverity | None = None
    certainty: Certainty | None = None
    unit_codes: list[str] | None = Field(default=None, min_length=1, max_length=MAX_UNITS)
    expires: datetime | None = None


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=2000, description="Why it is cancelled.")


@lru_cache(maxsize=1)
def schema() -> xmlschema.XMLSchema:
    path = resources.files("dieuhanh.alerts").joinpath("schemas/CAP-v1.2.xsd")
    return xmlschema.XMLSchema(str(path))


_SCHEMA_LOCK = threading.Lock()  # xmlschema's validators are not documented as thread-safe


def check(xml: str) -> None:
    """Raise ValueError naming the first schema violation."""
    with _SCHEMA_LOCK:
        error = next(schema().iter_errors(xml), None)
    if error is not None:
        raise ValueError(f"not valid CAP 1.2: {error.reason} at {error.path}")


def cap_time(moment: datetime, zone: str) -> str:
    """CAP wants an offset, never Z: 2026-12-04T09:30:00+07:00."""
    return moment.astimezone(ZoneInfo(zone)).replace(microsecond=0).isoformat()


def _areas(session: Session, codes: list[str]) -> list[tuple[Unit, list[str]]]:
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    missing = [code for code in codes if code not in units]
    if missing:
        raise InvalidInput(f"unit_codes: no unit '{missing[0][:40]}'.", code="unknown_unit")
    boundaries = {
        b.unit_id: b.geometry
        for b in session.scalars(
            select(Boundary).where(
                Boundary.unit_id.in_([u.id for u in units.values()]), Boundary.valid_to.is_(None)
            )
        )
    }
    return [(units[code], _polygons(boundaries.get(units[code].id))) for code in codes]


def _polygons(geometry: dict[str, Any] | None) -> list[str]:
    """CAP polygons of a boundary: each exterior ring as "lat,lon" pairs, closed, simplified
    until it has at most MAX_POLYGON_POINTS points."""
    if not geometry:
        return []
    shapes = shape(geometry)
    parts = list(getattr(shapes, "geoms", [shapes]))
    texts: list[str] = []
    for part in parts:
        ring = part.exterior
        tolerance = 0.0002
        while len(ring.coords) > MAX_POLYGON_POINTS:
            ring = part.simplify(tolerance, preserve_topology=True).exterior
            tolerance *= 2
        points = [f"{lat:.5f},{lon:.5f}" for lon, lat, *_ in ring.coords]
        if len(points) >= 4 and points[0] == points[-1]:
            texts.append(" ".join(points))
    return texts


def _sub(parent: ET.Element, name: str, text: str | None) -> None:
    if text is not None and text != "":
        ET.SubElement(parent, f"{{{NS}}}{name}").text = text


def render(
    *,
    identifier: str,
    sender: str,
    sent: str,
    msg_type: str,
    status: str,
    references: str | None,
    note: str | None,
    info: dict[str, Any],
    areas: list[tuple[Unit, list[str]]],
) -> str:
    alert = ET.Element(f"{{{NS}}}alert")
    for name, value in (("identifier", identifier), ("sender", sender), ("sent", sent),
                        ("status", status), ("msgType", msg_type), ("scope", "Public"),
                        ("note", note), ("references", references)):  # fmt: skip
        _sub(alert, name, value)
    block = ET.SubElement(alert, f"{{{NS}}}info")
    for name in ("language", "category", "event", "responseType", "urgency", "severity",
                 "certainty", "expires", "senderName", "headline", "description",
                 "instruction"):  # fmt: skip
        _sub(block, name, info.get(name))
    for unit, polygons in areas:
        area = ET.SubElement(block, f"{{{NS}}}area")
        _sub(area, "areaDesc", unit.name)
        for polygon in polygons:
            _sub(area, "polygon", polygon)
        geocode = ET.SubElement(area, f"{{{NS}}}geocode")
        _sub(geocode, "valueName", "DVHC")
        _sub(geocode, "value", unit.code)
    # default_namespace, not ET.register_namespace: that one is global to the process.
    xml = ET.tostring(alert, encoding="unicode", default_namespace=NS)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + xml


def _info(body: dict[str, Any], zone: str) -> dict[str, Any]:
    expires = body.get("expires")
    return {
        "language": "vi-VN", "category": body["category"], "event": body["event"],
        "responseType": body.get("responseType"), "urgency": body["urgency"],
        "severity": body["severity"], "certainty": body["certainty"],
        "expires": cap_time(expires, zone) if isinstance(expires, datetime) else expires,
        "senderName": body.get("senderName"), "headline": body["headline"],
        "description": body["description"], "instruction": body.get("instruction"),
    }  # fmt: skip


def _new_identifier(sender: str, now: datetime, zone: str) -> str:
    stamp = now.astimezone(ZoneInfo(zone)).strftime("%Y%m%d%H%M%S")
    return f"DH-{stamp}-{secrets.token_hex(3).upper()}"


def publish_emergency(
    session: Session, body: EmergencyIn, *, sender: str, sender_name: str, zone: str,
    by: str, now: datetime,
) -> CapMessage:  # fmt: skip
    if body.expires is not None and body.expires.tzinfo is None:
        raise InvalidInput("expires: give a time zone (e.g. +07:00).", code="invalid_time")
    fields = {**body.model_dump(), "senderName": sender_name}
    return _store(session, fields, emergency=None, msg_type="Alert", references=[], note=None,
                  sender=sender, zone=zone, by=by, now=now)  # fmt: skip


def follow_up(
    session: Session, identifier: str, msg_type: Literal["Update", "Cancel"],
    changes: dict[str, Any], note: str | None, *, sender: str, zone: str, by: str,
    now: datetime,
) -> CapMessage:  # fmt: skip
    chain = list(session.scalars(
        select(CapMessage).where(CapMessage.emergency == _emergency_of(session, identifier))
        .order_by(CapMessage.id)
    ))  # fmt: skip
    if chain[-1].msg_type == "Cancel":
        raise Conflict(f"Emergency {identifier} is cancelled already.", code="cancelled")
    expires = changes.get("expires")
    if isinstance(expires, datetime) and expires.tzinfo is None:
        raise InvalidInput("expires: give a time zone (e.g. +07:00).", code="invalid_time")
    last = _fields_of(chain[-1])
    fields = {**last, **{k: v for k, v in changes.items() if v is not None}}
    if msg_type == "Cancel":
        fields["responseType"] = "AllClear"
    references = [f"{sender},{m.identifier},{cap_time(m.sent, zone)}" for m in chain]
    return _store(session, fields, emergency=chain[0].identifier, msg_type=msg_type,
                  references=references, note=note, sender=sender, zone=zone, by=by,
                  now=now)  # fmt: skip


def _emergency_of(session: Session, identifier: str) -> str:
    found = session.scalar(select(CapMessage.emergency).where(CapMessage.identifier == identifier))
    if found is None:
        raise NotFound(f"No emergency message '{identifier[:120]}'.", code="emergency_not_found")
    return found


def _fields_of(message: CapMessage) -> dict[str, Any]:
    """The info of a stored message, read back from its XML (the one truth)."""
    root = ET.fromstring(message.xml)
    info = root.find(f"{{{NS}}}info")
    assert info is not None
    fields: dict[str, Any] = {}
    for child in info:
        name = child.tag.split("}")[1]
        if name != "area":
            fields[name] = child.text
    fields["unit_codes"] = list(message.unit_codes)
    fields["status"] = root.findtext(f"{{{NS}}}status")  # an exercise stays an exercise
    fields.pop("responseType", None)
    return fields


def _store(
    session: Session, fields: dict[str, Any], *, emergency: str | None, msg_type: str,
    references: list[str], note: str | None, sender: str, zone: str, by: str, now: datetime,
) -> CapMessage:  # fmt: skip
    codes = list(dict.fromkeys(fields["unit_codes"]))
    identifier = _new_identifier(sender, now, zone)
    sent = cap_time(now, zone)
    xml = render(identifier=identifier, sender=sender, sent=sent, msg_type=msg_type,
                 status=fields.get("status") or "Actual", references=" ".join(references) or None,
                 note=note or None, info=_info(fields, zone),
                 areas=_areas(session, codes))  # fmt: skip
    try:
        check(xml)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_cap") from None
    expires = fields.get("expires")
    message = CapMessage(
        identifier=identifier, emergency=emergency or identifier, msg_type=msg_type,
        headline=fields["headline"][:300], sent=now.replace(microsecond=0),
        expires=datetime.fromisoformat(expires) if isinstance(expires, str) else expires,
        unit_codes=codes, xml=xml, created_by=by,
    )  # fmt: skip
    session.add(message)
    session.flush()
    return message


def atom_feed(
    messages: list[CapMessage], base_url: str, zone: str, title: str, author_name: str
) -> str:
    """The Atom feed of CAP messages (newest first), each entry linking to its message."""
    # Written with plain tags under an xmlns attribute: Atom's own attributes (rel, href) are
    # unqualified, which ET's default_namespace refuses.
    feed = ET.Element("feed", xmlns=ATOM)
    base = base_url.rstrip("/")

    def add(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, name, attrs)
        if text is not None:
            element.text = text
        return element

    add(feed, "id", f"{base}/api/v1/cap/feed.xml")
    add(feed, "title", title)
    newest = messages[0].sent if messages else None
    add(feed, "updated", cap_time(newest, zone) if newest else "1970-01-01T00:00:00+00:00")
    add(feed, "link", rel="self", href=f"{base}/api/v1/cap/feed.xml")
    for message in messages:
        entry = add(feed, "entry")
        add(entry, "id", f"{base}/api/v1/cap/{message.identifier}.xml")
        add(entry, "title", message.headline)
        add(entry, "updated", cap_time(message.sent, zone))
        add(entry, "summary", f"{message.msg_type}: {message.headline}")
        add(entry, "link", rel="alternate", type="application/cap+xml",
            href=f"{base}/api/v1/cap/{message.identifier}.xml")  # fmt: skip
        author = add(entry, "author")
        add(author, "name", author_name)  # the IOC, never a person's account
    xml = ET.tostring(feed, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + xml
