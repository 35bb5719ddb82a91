"""Report forms (DHIS2 data sets), who must submit them, submissions, approvals, entry
exceptions, validation rules and reminders (issue 5)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dieuhanh.core.db.base import Base, UTCDateTime, utcnow
from dieuhanh.indicators.catalog.models import DataElement


class ApprovalState(StrEnum):
    APPROVED = "approved"
    ACCEPTED = "accepted"


class Operator(StrEnum):
    EQ = "=="
    NE = "!="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    COMPULSORY_PAIR = "compulsory_pair"
    EXCLUSIVE_PAIR = "exclusive_pair"


class MissingValueStrategy(StrEnum):
    SKIP_IF_ANY_MISSING = "skip_if_any_missing"
    SKIP_IF_ALL_MISSING = "skip_if_all_missing"
    NEVER_SKIP = "never_skip"


class Importance(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class ReminderKind(StrEnum):
    DEADLINE_NEAR = "deadline_near"
    OVERDUE = "overdue"
    VALIDATION_VIOLATION = "validation_violation"
    APPROVAL = "approval"


class ReportForm(Base):
    """A set of elements some units report every period, with its deadline and entry window."""

    __tablename__ = "report_forms"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(230))
    description: Mapped[str | None] = mapped_column(Text)
    domain: Mapped[str | None] = mapped_column(String(40))
    period_type: Mapped[str] = mapped_column(String(12))
    # On time if completed by the end of (period end + timely_days), province time.
    timely_days: Mapped[int] = mapped_column(Integer, default=2)
    # Entry closes at the end of (period end + expiry_days); None: never closes.
    expiry_days: Mapped[int | None] = mapped_column(Integer)
    approval_required: Mapped[bool] = mapped_column(Boolean, default=False)
    hide_unapproved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    elements: Mapped[list[ReportFormElement]] = relationship(
        back_populates="form",
        order_by="ReportFormElement.sort_order",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    units: Mapped[list[ReportFormUnit]] = relationship(
        back_populates="form", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def audit_label(self) -> str:
        return f"{self.name} ({self.code})"


class ReportFormElement(Base):
    __tablename__ = "report_form_elements"
    __audited__ = True

    form_id: Mapped[int] = mapped_column(
        ForeignKey("report_forms.id", ondelete="CASCADE"), primary_key=True
    )
    element_id: Mapped[int] = mapped_column(
        ForeignKey("data_elements.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    section: Mapped[str | None] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    form: Mapped[ReportForm] = relationship(back_populates="elements")
    element: Mapped[DataElement] = relationship(lazy="joined")


class ReportFormUnit(Base):
    """A unit that must submit the form every period (DHIS2: data set assignment)."""

    __tablename__ = "report_form_units"
    __audited__ = True

    form_id: Mapped[int] = mapped_column(
        ForeignKey("report_forms.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    form: Mapped[ReportForm] = relationship(back_populates="units")

    @property
    def audit_unit_id(self) -> int:
        return self.unit_id


class Submission(Base):
    """A unit marked the form complete for a period; on_time is fixed when it is completed."""

    __tablename__ = "report_submissions"
    __audited__ = True
    __table_args__ = (UniqueConstraint("form_id", "unit_id", "period_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("report_forms.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    period_code: Mapped[str] = mapped_column(String(12))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_by: Mapped[str] = mapped_column(String(100))
    on_time: Mapped[bool] = mapped_column(Boolean)

    @property
    def audit_unit_id(self) -> int:
        return self.unit_id


class Approval(Base):
    """The province approved a unit's form for a period: its values are locked."""

    __tablename__ = "report_approvals"
    __audited__ = True
    __table_args__ = (UniqueConstraint("form_id", "unit_id", "period_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("report_forms.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    period_code: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(10), default=ApprovalState.APPROVED.value)
    approved_by: Mapped[str] = mapped_column(String(100))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def audit_unit_id(self) -> int:
        return self.unit_id


class EntryException(Base):
    """Entry reopened after the window closed, for one unit or (unit_id NULL) all units."""

    __tablename__ = "report_entry_exceptions"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("report_forms.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    period_code: Mapped[str] = mapped_column(String(12))
    open_until: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(500))
    granted_by: Mapped[str] = mapped_column(String(100))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def audit_unit_id(self) -> int | None:
        return self.unit_id


Index(
    "ix_report_entry_exceptions_form_period",
    EntryException.form_id,
    EntryException.period_code,
)


class ValidationRule(Base):
    """left operator right, over expressions; evaluated by reporting.validation."""

    __tablename__ = "validation_rules"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(230))
    instruction: Mapped[str | None] = mapped_column(Text)
    left: Mapped[str] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(String(20))
    right: Mapped[str] = mapped_column(Text)
    missing_value_strategy: Mapped[str] = mapped_column(
        String(20), default=MissingValueStrategy.SKIP_IF_ANY_MISSING.value
    )
    importance: Mapped[str] = mapped_column(String(10), default=Importance.MEDIUM.value)
    form_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_forms.id", ondelete="SET NULL"), index=True
    )
    period_type: Mapped[str | None] = mapped_column(String(12))

    @property
    def audit_label(self) -> str:
        return f"{self.name} ({self.code})"


class Reminder(Base):
    """An in-app notice to a unit about one form and period (one per kind: updated, not
    duplicated)."""

    __tablename__ = "report_reminders"
    __table_args__ = (UniqueConstraint("form_id", "unit_id", "period_code", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("report_forms.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    period_code: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
