"""Data elements, their disaggregations, constants, indicator formulas, and the data values with
the history of every change (issue 5)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dieuhanh.core.db.base import Base, JSONType, UTCDateTime, utcnow
from dieuhanh.indicators.catalog.periods import Period, PeriodError, parse_period

# SQLite only auto-numbers an INTEGER PRIMARY KEY; PostgreSQL needs 64 bits for 20 M+ values.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class ValueType(StrEnum):
    """DHIS2's value types (lower case). Counts are ``integer_zero_or_positive``."""

    INTEGER = "integer"
    INTEGER_POSITIVE = "integer_positive"  # 1, 2, 3 …
    INTEGER_NEGATIVE = "integer_negative"  # -1, -2 …
    INTEGER_ZERO_OR_POSITIVE = "integer_zero_or_positive"  # 0, 1, 2 …: anything counted
    NUMBER = "number"
    PERCENTAGE = "percentage"  # 0–100
    TEXT = "text"
    BOOLEAN = "boolean"  # có/không


class AggregationType(StrEnum):
    SUM = "sum"
    AVERAGE = "average"
    LAST = "last"
    MIN = "min"
    MAX = "max"


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class Source(StrEnum):
    """Where a value came from: kept on the value and on every change."""

    FORM = "form"
    IMPORT = "import"
    CONNECTOR = "connector"
    API = "api"


class Disaggregation(Base):
    """A breakdown of an element (DHIS2's category combination, one category): e.g. channel."""

    __tablename__ = "disaggregations"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(230))

    options: Mapped[list[DisaggregationOption]] = relationship(
        back_populates="disaggregation",
        order_by="DisaggregationOption.sort_order",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def audit_label(self) -> str:
        return f"{self.name} ({self.code})"


class DisaggregationOption(Base):
    __tablename__ = "disaggregation_options"
    __audited__ = True
    __table_args__ = (UniqueConstraint("disaggregation_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    disaggregation_id: Mapped[int] = mapped_column(
        ForeignKey("disaggregations.id", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(230))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    disaggregation: Mapped[Disaggregation] = relationship(back_populates="options")

    @property
    def audit_label(self) -> str:
        return f"{self.name} ({self.code})"


class DataElement(Base):
    """A figure units report (chỉ tiêu): what it is, its type, and how it adds up."""

    __tablename__ = "data_elements"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(230))
    short_name: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    value_type: Mapped[str] = mapped_column(String(30), default=ValueType.NUMBER.value)
    unit_of_measure: Mapped[str | None] = mapped_column(String(50))
    aggregation_type: Mapped[str] = mapped_column(String(10), default=AggregationType.SUM.value)
    domain: Mapped[str | None] = mapped_column(String(40), index=True)
    disaggregation_id: Mapped[int | None] = mapped_column(ForeignKey("disaggregations.id"))
    # DHIS2 drops zeros of most elements to save space; we keep every zero unless told otherwise.
    zero_is_significant: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    disaggregation: Mapped[Disaggregation | None] = relationship(lazy="selectin")

    @property
    def audit_label(self) -> str:
        return f"{self.name} ({self.code})"


class Constant(Base):
    __tablename__ = "constants"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(230))
    value: Mapped[float] = mapped_column(Float)

    @property
    def audit_label(self) -> str:
        return f"{self.name} ({self.code})"


class Indicator(Base):
    """numerator ÷ denominator × factor, each side an expression over element codes."""

    __tablename__ = "indicators"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(230))
    description: Mapped[str | None] = mapped_column(Text)
    domain: Mapped[str | None] = mapped_column(String(40), index=True)
    numerator: Mapped[str] = mapped_column(Text)
    denominator: Mapped[str] = mapped_column(Text, default="1")
    factor: Mapped[float] = mapped_column(Float, default=1.0)
    decimals: Mapped[int] = mapped_column(Integer, default=1)
    unit_of_measure: Mapped[str | None] = mapped_column(String(50))
    direction: Mapped[str] = mapped_column(String(20), default=Direction.HIGHER_IS_BETTER.value)
    target: Mapped[float | None] = mapped_column(Float)
    # [{"start": float|None, "end": float|None, "color": "green"|"yellow"|"red", "label": str}]
    legend: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def audit_label(self) -> str:
        return f"{self.name} ({self.code})"


class DataValue(Base):
    """One figure: element × unit × period × disaggregation option.

    Not audited row by row (20 M rows): its own history is DataValueChange, and imports write one
    audit summary. The period's type and dates are stored beside its code so that analytics filter
    by date range on the index without parsing codes.
    """

    __tablename__ = "data_values"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Held by the write path once per batch and guarded by triggers, not foreign keys: see
    # migration 0023 (the per-row checks were half the cost of storing a value).
    element_id: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(Integer)
    period_code: Mapped[str] = mapped_column(String(12))
    period_type: Mapped[str] = mapped_column(String(12))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    option: Mapped[str] = mapped_column(String(50), default="")
    value: Mapped[str] = mapped_column(Text)
    numeric: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(12))
    source_detail: Mapped[str | None] = mapped_column(String(200))
    stored_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# One index is the value's key and the analytics path (migration 0024). It leads with what the
# analytics filter by (element, a range of period starts, units); with the option and the period
# code it is unique exactly when (element, unit, period code, option) is, since a period's code
# and its start determine each other. On PostgreSQL it also carries what the analytics query
# reads, so that query is an index-only scan (at 20 M values a cold fetch took 19 ms instead of
# 196 ms). A key and an analytics index apart cost every update a third index entry: a bare
# UPDATE of 100,000 values ran at 50,000-54,100/s with both, 69,100-71,100/s with this one
# (bench/indicators.py). Whoever finds a value by its code gives the period's start too
# (:func:`in_periods`), or the index is searched by element alone.
Index(
    "uq_data_values_key",
    DataValue.element_id,
    DataValue.period_start,
    DataValue.unit_id,
    DataValue.option,
    DataValue.period_code,
    unique=True,
    postgresql_include=["period_end", "numeric"],
)


def in_periods(periods: Iterable[Period]) -> ColumnElement[bool]:
    """Values of these periods, found through the key: its start beside its code."""
    chosen = list(periods)
    return and_(
        DataValue.period_start.in_(sorted({period.start for period in chosen})),
        DataValue.period_code.in_(sorted({period.code for period in chosen})),
    )


def in_period_codes(codes: Iterable[str]) -> ColumnElement[bool]:
    """:func:`in_periods` by code. A malformed code matches nothing, as it did when values were
    found by code alone: the write path stores none."""
    periods = []
    for code in codes:
        try:
            periods.append(parse_period(code))
        except PeriodError:
            continue
    return in_periods(periods)


class DataValueChange(Base):
    """Every create, update and delete of a data value: who, when, from where, old → new.

    A log: no foreign keys (migration 0014). Its rows were checked when their values were, and
    the per-row referential checks cost more than the rows themselves on PostgreSQL."""

    __tablename__ = "data_value_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    element_id: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(Integer)
    period_code: Mapped[str] = mapped_column(String(12))
    option: Mapped[str] = mapped_column(String(50), default="")
    action: Mapped[str] = mapped_column(String(10))  # create, update, delete
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(12))
    source_detail: Mapped[str | None] = mapped_column(String(200))
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


Index(
    "ix_data_value_changes_value",
    DataValueChange.element_id,
    DataValueChange.unit_id,
    DataValueChange.period_code,
)
