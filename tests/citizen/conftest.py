"""Places in Đồng Nai for the citizen report tests, found in the imported boundaries."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from shapely.geometry import Point, shape
from shapely.ops import nearest_points
from sqlalchemy import select

from dieuhanh.core.runtime import Runtime
from dieuhanh.gis.models import Boundary
from dieuhanh.units.models import Unit

BIEN_HOA = "Phường Biên Hòa"


@dataclass(frozen=True)
class Places:
    inside: tuple[float, float]  # (lat, lon) well inside Phường Biên Hòa
    near_border: tuple[float, float]  # inside Biên Hòa, about 40 m from a neighbour
    unit: str  # Biên Hòa's code
    neighbour: str  # the neighbour's code
    neighbour_name: str


@pytest.fixture
def places(runtime: Runtime) -> Places:
    with runtime.sessions() as session:
        rows = session.execute(
            select(Unit, Boundary)
            .join(Boundary, Boundary.unit_id == Unit.id)
            .where(Boundary.valid_to.is_(None), Unit.type.in_(["commune", "ward"]))
        ).all()
    shapes = {unit.code: (unit, shape(boundary.geometry)) for unit, boundary in rows}
    unit, area = next((u, s) for u, s in shapes.values() if u.name == BIEN_HOA)
    inside = area.representative_point()
    neighbour, other = next(
        (u, s) for u, s in shapes.values() if u.id != unit.id and s.touches(area)
    )
    on_border = nearest_points(other, inside)[0]
    # 40 m from the border towards the inside (1 degree of latitude is about 111 km)
    step = 40 / 111_000
    dx, dy = inside.x - on_border.x, inside.y - on_border.y
    length = (dx * dx + dy * dy) ** 0.5
    near = Point(on_border.x + dx / length * step, on_border.y + dy / length * step)
    assert area.contains(near)
    return Places(
        inside=(inside.y, inside.x), near_border=(near.y, near.x), unit=unit.code,
        neighbour=neighbour.code, neighbour_name=neighbour.name,
    )  # fmt: skip
