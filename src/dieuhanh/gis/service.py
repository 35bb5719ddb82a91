"""Reading boundaries: one unit's shape, a map layer of a unit's children, point-in-polygon."""

from __future__ import annotations

import math
from typing import Any

from shapely import affinity
from shapely.geometry import Point, shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dieuhanh.core.errors import NotFound
from dieuhanh.gis.models import Boundary, BoundaryImport
from dieuhanh.units.models import Unit
from dieuhanh.units.types import ADMINISTRATIVE

METERS_PER_DEGREE = 111_320.0  # of latitude; of longitude times cos(latitude)


def current_boundary(session: Session, unit: Unit) -> Boundary | None:
    return session.scalar(
        select(Boundary).where(Boundary.unit_id == unit.id, Boundary.valid_to.is_(None))
    )


def unit_feature(session: Session, unit: Unit) -> dict[str, Any]:
    boundary = current_boundary(session, unit)
    if boundary is None:
        raise NotFound(
            f"{unit.name} ({unit.code}) has no boundary; import one with "
            "'dieuhanh units import boundaries FILE'.",
            code="boundary_not_found",
        )
    return _feature(unit, boundary)


def children_collection(session: Session, parent: Unit) -> dict[str, Any]:
    rows = session.execute(
        select(Unit, Boundary)
        .join(Boundary, Boundary.unit_id == Unit.id)
        .where(
            Unit.parent_id == parent.id,
            Unit.type.in_([t.value for t in ADMINISTRATIVE]),
            Boundary.valid_to.is_(None),
        )
        .order_by(Unit.name_key)
    ).all()
    collection: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [_feature(unit, boundary) for unit, boundary in rows],
    }
    attribution = latest_attribution(session)
    if attribution:
        collection["attribution"] = attribution
    return collection


def layer_version(session: Session, parent: Unit) -> str:
    """Changes whenever any child's boundary does: the layer's ETag."""
    count, newest = session.execute(
        select(func.count(Boundary.id), func.max(Boundary.id))
        .join(Unit, Unit.id == Boundary.unit_id)
        .where(Unit.parent_id == parent.id, Boundary.valid_to.is_(None))
    ).one()
    names = session.scalar(select(func.max(Unit.updated_at)).where(Unit.parent_id == parent.id))
    return f"{parent.code}-{count}-{newest}-{names.timestamp() if names else 0}"


def latest_attribution(session: Session) -> str | None:
    return session.scalar(
        select(BoundaryImport.attribution)
        .where(BoundaryImport.attribution.is_not(None))
        .order_by(BoundaryImport.id.desc())
        .limit(1)
    )


def locate(session: Session, lon: float, lat: float, parent: Unit) -> Unit | None:
    """The commune/ward of ``parent`` containing the point (on its border counts), if any."""
    found = nearby(session, lon, lat, parent, 0.0)
    return found[0][0] if found else None


def nearby(
    session: Session, lon: float, lat: float, parent: Unit, meters: float
) -> list[tuple[Unit, float]]:
    """The communes/wards of ``parent`` whose boundary lies within ``meters`` of the point, with
    their distance in metres (0 for the one containing it), nearest first. Distances are
    measured on a local flat projection (longitude scaled by cos(latitude)): metres-exact
    enough at a province's scale."""
    point = Point(lon, lat)
    margin_lat = meters / METERS_PER_DEGREE
    margin_lon = margin_lat / max(math.cos(math.radians(lat)), 0.01)
    candidates = session.execute(
        select(Unit, Boundary)
        .join(Boundary, Boundary.unit_id == Unit.id)
        .where(
            Unit.parent_id == parent.id,
            Boundary.valid_to.is_(None),
            Boundary.min_lon <= lon + margin_lon,
            Boundary.max_lon >= lon - margin_lon,
            Boundary.min_lat <= lat + margin_lat,
            Boundary.max_lat >= lat - margin_lat,
        )
    ).all()
    found = []
    scale = math.cos(math.radians(lat))
    for unit, boundary in candidates:
        flat = affinity.scale(shape(boundary.geometry), xfact=scale, yfact=1.0, origin=point)
        distance = flat.distance(point) * METERS_PER_DEGREE
        if distance <= meters:
            found.append((unit, distance))
    return sorted(found, key=lambda pair: pair[1])


def _feature(unit: Unit, boundary: Boundary) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": unit.code,
        "properties": {
            "code": unit.code,
            "name": unit.name,
            "type": unit.type,
            "parent_code": unit.parent.code if unit.parent else None,
            "area_km2": boundary.area_km2,
            "label": [boundary.label_lon, boundary.label_lat],
            "valid_from": boundary.valid_from.isoformat(),
        },
        "bbox": [boundary.min_lon, boundary.min_lat, boundary.max_lon, boundary.max_lat],
        "geometry": boundary.geometry,
    }
