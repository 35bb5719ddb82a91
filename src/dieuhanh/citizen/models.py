"""Citizen reports (phản ánh hiện trường, tổng đài 1022): categories, reports, their history and
the Open311 keys that may post them.

A report's contact (phone, e-mail, name) is personal data: it is kept for the handling unit to
call back, redacted in the audit log, and never in a public answer (Open311, the public list).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, Select, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from dieuhanh.core.db.base import Base, JSONType, UTCDateTime, utcnow
from dieuhanh.units.models import Unit


class Status(StrEnum):
    NEW = "new"  # received, not yet looked at by the unit it was routed to
    ACCEPTED = "accepted"
    REFUSED = "refused"  # with a reason (not a matter for the authorities, spam…)
    ASSIGNED = "assigned"  # to a person of the unit
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"  # answered; the citizen may reopen it within the window
    CLOSED = "closed"
    REOPENED = "reopened"  # "fixed, but not really": back to the unit
    DUPLICATE = "duplicate"  # of another report, linked


OPEN_STATUSES = frozenset(
    {Status.NEW, Status.ACCEPTED, Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED}
)


class Channel(StrEnum):
    WEB = "web"  # the public form
    OPEN311 = "open311"  # an app through GeoReport v2
    HOTLINE = "hotline"  # a 1022 call, typed by staff
    IMPORT = "import"  # the hotline's own system, through the data hub


class ReportCategory(Base):
    """What a report is about: who handles it (a commune, or a department) and how fast."""

    __tablename__ = "report_categories"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # Open311 service_code
    name: Mapped[str] = mapped_column(String(120))  # Vietnamese
    name_en: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    group: Mapped[str] = mapped_column(String(60), default="")
    keywords: Mapped[str] = mapped_column(Text, default="")
    # "commune": the commune or ward where it happens; "department": ``department_code``.
    handled_by: Mapped[str] = mapped_column(String(12), default="commune")
    department_code: Mapped[str | None] = mapped_column(String(32))
    deadline_days: Mapped[int] = mapped_column(Integer, default=5)  # working days
    urgent_hours: Mapped[int] = mapped_column(Integer, default=24)  # calendar hours, urgent ones
    # Extra fields asked on the form and in Open311 (service definition attributes).
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def audit_label(self) -> str:
        return f"{self.name} ({self.code})"


class CitizenReport(Base):
    __tablename__ = "citizen_reports"
    __audited__ = True
    __audit_redact__ = frozenset({"contact_name", "contact_phone", "contact_email", "token"})

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # PA-2026-000123, to follow it
    token: Mapped[str] = mapped_column(String(40), unique=True)  # Open311 token
    channel: Mapped[str] = mapped_column(String(12))
    category_id: Mapped[int] = mapped_column(ForeignKey("report_categories.id"), index=True)
    # The classifier's suggestion when the report arrived, and how sure it was.
    suggested_category: Mapped[str | None] = mapped_column(String(40))
    confidence: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    # How the unit was found: "point", "address", "category" (a department), "transfer".
    located_by: Mapped[str] = mapped_column(String(12))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    # Units within reach of a point near a border: offered for a transfer, never lost.
    neighbour_unit_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(12), index=True, default=Status.NEW)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee: Mapped[str | None] = mapped_column(String(100))
    answer: Mapped[str | None] = mapped_column(Text)  # public
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("citizen_reports.id"))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(120))
    external_id: Mapped[str | None] = mapped_column(String(60))  # the hotline's own case number
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when it was found late
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def audit_unit_id(self) -> int:
        return self.unit_id

    @property
    def audit_label(self) -> str:
        return self.code


Index("ix_citizen_reports_unit_status", CitizenReport.unit_id, CitizenReport.status)


def with_category_and_unit() -> Select[CitizenReport, ReportCategory, Unit]:
    """Reports with their category and the unit they are with: what every list shows."""
    return (
        select(CitizenReport, ReportCategory, Unit)
        .join(ReportCategory, ReportCategory.id == CitizenReport.category_id)
        .join(Unit, Unit.id == CitizenReport.unit_id)
    )


class ReportEvent(Base):
    """One step of a report's handling: who, when, from which status to which, and a note that
    is either internal (staff only) or public (the answer the citizen reads)."""

    __tablename__ = "citizen_report_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("citizen_reports.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    unit_id: Mapped[int | None] = mapped_column(Integer)  # the unit it was with afterwards
    note: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=False)


class Open311Key(Base):
    """An API key allowed to post reports through Open311 (an app, a partner's system)."""

    __tablename__ = "open311_keys"
    __audited__ = True
    __audit_redact__ = frozenset({"key_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the key
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def audit_label(self) -> str:
        return self.name


class ReportPhoto(Base):
    """A photo sent with a report, kept under the data directory. Public only once staff have
    looked at it (a face, a house number, a licence plate): ``approved``."""

    __tablename__ = "citizen_report_photos"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("citizen_reports.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(String(200))  # under <data_dir>/citizen/photos
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def audit_label(self) -> str:
        return f"photo {self.id} of report {self.report_id}"
