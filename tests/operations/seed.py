"""Things on the operations map, written straight into the tables (in bulk, as a province's
backlog would be there already): cameras with a state, open citizen reports, open alerts,
directives with recipients, sensor readings. Shared by the tests and bench/operations.py."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from shapely.geometry import shape
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from dieuhanh.alerts.models import Alert, Directive, DirectiveRecipient
from dieuhanh.cameras.models import Camera, CameraStatus
from dieuhanh.citizen.models import CitizenReport, ReportCategory
from dieuhanh.core.db.base import utcnow
from dieuhanh.datahub.models import DataSource, SensorReading
from dieuhanh.gis.models import Boundary
from dieuhanh.units.models import Unit

CAMERA_STATES = ("live", "live", "live", "dead", "unknown")
REPORT_STATUSES = ("new", "accepted", "assigned", "in_progress", "reopened")
SEVERITIES = ("critical", "major", "minor", "warning", "info")


@dataclass(frozen=True)
class Place:
    unit_id: int
    code: str
    lat: float
    lon: float


def places(session: Session, only: set[str] | None = None) -> list[Place]:
    """A point inside each commune/ward (its boundary's representative point)."""
    rows = session.execute(
        select(Unit.id, Unit.code, Boundary.geometry)
        .join(Boundary, Boundary.unit_id == Unit.id)
        .where(Boundary.valid_to.is_(None), Unit.type.in_(["commune", "ward"]))
        .order_by(Unit.code)
    ).all()
    found = []
    for unit_id, code, geometry in rows:
        if only is None or code in only:
            point = shape(geometry).representative_point()
            found.append(Place(unit_id, code, point.y, point.x))
    return found


def cameras(session: Session, where: list[Place], count: int, rng: random.Random) -> None:
    now = utcnow()
    rows = []
    for n in range(count):
        place = where[n % len(where)]
        rows.append({"unit_id": place.unit_id, "name": f"Camera {n + 1}",
                     "stream_url": f"rtsp://10.0.0.{n % 250}/cam{n}",
                     "lat": place.lat + rng.uniform(-0.003, 0.003),
                     "lon": place.lon + rng.uniform(-0.003, 0.003), "tags": [],
                     "created_at": now, "updated_at": now})  # fmt: skip
    ids = session.scalars(insert(Camera).returning(Camera.id, sort_by_parameter_order=True), rows)
    statuses = [{"camera_id": id_, "state": CAMERA_STATES[n % len(CAMERA_STATES)]}
                for n, id_ in enumerate(ids)]  # fmt: skip
    session.execute(insert(CameraStatus), statuses)


def reports(session: Session, where: list[Place], count: int, rng: random.Random) -> None:
    now = utcnow()
    category = session.scalars(select(ReportCategory.id).order_by(ReportCategory.id)).first()
    first = (session.scalar(select(func.count()).select_from(CitizenReport)) or 0) + 1
    rows = []
    for n in range(count):
        place, number = where[n % len(where)], first + n
        located = n % 10 != 9  # one in ten came by phone without a point
        rows.append({
            "code": f"PA-T-{number:06d}", "token": f"t{number}", "channel": "web",
            "category_id": category, "description": f"Phản ánh thử {number}",
            "attributes": {}, "neighbour_unit_ids": [], "located_by": "point",
            "lat": place.lat + rng.uniform(-0.003, 0.003) if located else None,
            "lon": place.lon + rng.uniform(-0.003, 0.003) if located else None,
            "unit_id": place.unit_id, "status": REPORT_STATUSES[n % len(REPORT_STATUSES)],
            "urgent": n % 97 == 0, "received_at": now - timedelta(hours=n % 72),
            "due_at": now + timedelta(days=3) if n % 8 else now - timedelta(hours=2),
            "overdue_at": None if n % 8 else now - timedelta(hours=1), "updated_at": now,
        })  # fmt: skip
    session.execute(insert(CitizenReport), rows)


def alerts(session: Session, where: list[Place], count: int) -> None:
    now = utcnow()
    rows = [
        {"subject": f"test:{n}", "active_key": f"test|{n}|{now.timestamp()}",
         "unit_id": where[n % len(where)].unit_id, "severity": SEVERITIES[n % len(SEVERITIES)],
         "state": "open" if n % 3 else "acknowledged", "title": f"Cảnh báo thử {n}",
         "detail": "", "context": {}, "opened_at": now - timedelta(minutes=n),
         "last_seen_at": now, "updated_at": now}
        for n in range(count)
    ]  # fmt: skip
    session.execute(insert(Alert), rows)


def directive(session: Session, issuer: int, recipients: list[Place], states: list[str],
              code: str, late: bool = False) -> None:  # fmt: skip
    now = utcnow()
    deadline = now - timedelta(hours=1) if late else now + timedelta(days=2)
    row = Directive(code=code, title=f"Chỉ đạo {code}", deadline=deadline,
                    acknowledge_by=now + timedelta(hours=4) if not late else deadline,
                    issuer_unit_id=issuer, issued_by="test")  # fmt: skip
    session.add(row)
    session.flush()
    for place, state in zip(recipients, states, strict=True):
        session.add(DirectiveRecipient(directive_id=row.id, unit_id=place.unit_id, state=state))


def sensor_readings(session: Session, where: list[Place], devices: int, per_device: int) -> None:
    now = utcnow()
    source = DataSource(code="test_sensors", name="Cảm biến thử", kind="mqtt", config={})
    session.add(source)
    session.flush()
    rows = [
        {"source_id": source.id, "device": f"WL-{d:03d}", "metric": "water_level",
         "unit_id": where[d % len(where)].unit_id, "at": now - timedelta(minutes=5 * k),
         "value": 1.0 + d + k / 10}
        for d in range(devices) for k in range(per_device)
    ]  # fmt: skip
    session.execute(insert(SensorReading), rows)
