"""Unit boundaries (GeoJSON geometry in WGS84) and the record of each boundary import."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dieuhanh.core.db.base import Base, JSONType, UTCDateTime, utcnow
from dieuhanh.units.models import Unit


class Boundary(Base):
    """A unit's polygon over [valid_from, valid_to); replaced boundaries are kept, closed.

    Geometry is stored as GeoJSON rather than a spatial type so that the embedded SQLite and a
    plain PostgreSQL (no PostGIS) behave the same; the bounding box columns make "which units
    could contain this point" an indexed query, and shapely answers the exact question.
    """

    __tablename__ = "boundaries"
    __audited__ = True
    # The polygon itself is large; the audit log keeps its hash, which changes with it.
    __audit_redact__ = frozenset({"geometry"})

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    geometry: Mapped[dict[str, Any]] = mapped_column(JSONType)
    geometry_hash: Mapped[str] = mapped_column(String(64))
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    label_lon: Mapped[float] = mapped_column(Float)
    label_lat: Mapped[float] = mapped_column(Float)
    area_km2: Mapped[float] = mapped_column(Float)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("boundary_imports.id"))

    unit: Mapped[Unit] = relationship(lazy="joined")

    @property
    def audit_unit_id(self) -> int:
        return self.unit_id

    @property
    def audit_label(self) -> str:
        return f"boundary of {self.unit.name}" if self.unit else f"boundary #{self.id}"


class BoundaryImport(Base):
    """One import of a boundary file: where it came from and what matched."""

    __tablename__ = "boundary_imports"
    __audited__ = True
    __audit_redact__ = frozenset({"report"})

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    province_code: Mapped[str] = mapped_column(String(8))
    feature_count: Mapped[int] = mapped_column(Integer)
    matched_count: Mapped[int] = mapped_column(Integer)
    attribution: Mapped[str | None] = mapped_column(Text)
    report: Mapped[dict[str, Any]] = mapped_column(JSONType)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(100))
