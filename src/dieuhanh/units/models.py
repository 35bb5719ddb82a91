"""Units: provinces, communes/wards and departments, with their names over time and other codes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dieuhanh.core.db.base import Base, UTCDateTime, utcnow


class Unit(Base):
    """An administrative unit or a department; its ``code`` is the identifier other systems use."""

    __tablename__ = "units"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    codename: Mapped[str | None] = mapped_column(String(100))
    short_name: Mapped[str | None] = mapped_column(String(60))
    # Folded name without prefix (dieuhanh.core.text.name_key), what searches compare against.
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(100))
    # The unit's own profile, editable by its officers.
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(120))
    website: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], lazy="joined", innerjoin=False)
    names: Mapped[list[UnitName]] = relationship(
        back_populates="unit", order_by="UnitName.valid_from", cascade="all, delete-orphan"
    )
    aliases: Mapped[list[UnitAlias]] = relationship(
        back_populates="unit", cascade="all, delete-orphan"
    )

    @property
    def audit_unit_id(self) -> int:
        return self.id

    @property
    def audit_label(self) -> str:
        return f"{self.name} ({self.code})"


class UnitName(Base):
    """A name a unit has carried, over [valid_from, valid_to); the open one is the current name."""

    __tablename__ = "unit_names"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(300))

    unit: Mapped[Unit] = relationship(back_populates="names")

    @property
    def audit_unit_id(self) -> int:
        return self.unit_id


class UnitAlias(Base):
    """Another system's code for a unit (a boundary file, iGate, a pre-2025 code, ...)."""

    __tablename__ = "unit_aliases"
    __audited__ = True
    __table_args__ = (UniqueConstraint("scheme", "code", name="uq_unit_aliases_scheme_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    scheme: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(64))

    unit: Mapped[Unit] = relationship(back_populates="aliases")

    @property
    def audit_unit_id(self) -> int:
        return self.unit_id


Index("ix_units_parent_type", Unit.parent_id, Unit.type)
