"""Alerts: the rules that raise them, each rule's memory of its subjects (pending, streaks,
flapping), the alerts themselves with their history, and emergency broadcasts (CAP 1.2)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dieuhanh.core.db.base import Base, JSONType, UTCDateTime, utcnow


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"
    INFO = "info"


SEVERITY_RANK = {s: rank for rank, s in enumerate(Severity)}  # 0 is the most severe


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertRule(Base):
    """A declarative rule (YAML or the admin page): which events, which condition, for how long,
    how many times, how severe, for which units. ``definition`` is the rule as written (after
    validation); the engine compiles it."""

    __tablename__ = "alert_rules"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(10))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def audit_label(self) -> str:
        return f"{self.name} ({self.code})"


class RuleSubject(Base):
    """What a rule remembers of one subject (a camera, a source, a unit...): since when its
    condition holds, how many times in a row, when its last alert was resolved (flapping)."""

    __tablename__ = "alert_rule_subjects"

    rule_id: Mapped[int] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(String(120), primary_key=True, index=True)
    holds: Mapped[bool] = mapped_column(Boolean, default=False)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the condition holds since
    streak: Mapped[int] = mapped_column(Integer, default=0)  # matching events in a row
    raised: Mapped[bool] = mapped_column(Boolean, default=False)  # its alert is active
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # its last alert cleared
    clear_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # clear, flapping: waits
    flaps: Mapped[int] = mapped_column(Integer, default=0)
    unit_code: Mapped[str | None] = mapped_column(String(32))
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # the last event
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(Base):
    __tablename__ = "alerts"
    __audited__ = True
    # Seen again while up: counted, not audited (the audit log keeps the alert's steps).
    __audit_ignore__ = frozenset({"occurrences", "last_seen_at", "updated_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="SET NULL"))
    rule_code: Mapped[str | None] = mapped_column(String(60))  # kept when the rule goes
    subject: Mapped[str] = mapped_column(String(120))
    # "rule_code|subject" while the alert is active, NULL once resolved: the unique index keeps
    # one active alert per rule × subject on both databases (NULLs never collide).
    active_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    severity: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(14), default=AlertState.OPEN, index=True)
    title: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text, default="")
    source_topic: Mapped[str | None] = mapped_column(String(60))
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    # Raised again soon after it cleared: the same alert reopened, not a new one (no new ping).
    flaps: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    assignee: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))  # "rule" when it cleared
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def audit_unit_id(self) -> int | None:
        return self.unit_id

    @property
    def audit_label(self) -> str:
        return f"#{self.id} {self.title}"


Index("ix_alerts_subject_rule", Alert.subject, Alert.rule_code)


class AlertNote(Base):
    """The alert's history: raised, acknowledged, assigned, comments, resolved, reopened."""

    __tablename__ = "alert_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)


class CapMessage(Base):
    """One CAP 1.2 message as published (immutable): an emergency's alert, its updates and its
    cancellation, each referencing the ones before."""

    __tablename__ = "cap_messages"
    __table_args__ = (UniqueConstraint("identifier", name="uq_cap_messages_identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(120))
    # The first message's identifier: an emergency is the chain of its messages.
    emergency: Mapped[str] = mapped_column(String(120), index=True)
    msg_type: Mapped[str] = mapped_column(String(8))  # Alert, Update, Cancel
    headline: Mapped[str] = mapped_column(String(300))
    sent: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unit_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    xml: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))


class AlertPreference(Base):
    """What reaches one person: which severities, by e-mail or not, and quiet hours (province
    time) during which only critical alerts are sent; and whether the daily briefing is
    e-mailed to them. No row: critical and major, by e-mail, no briefing."""

    __tablename__ = "alert_preferences"
    __audited__ = True

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    severities: Mapped[list[str]] = mapped_column(JSONType, default=list)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "22:00"
    quiet_end: Mapped[str | None] = mapped_column(String(5))  # "06:00"
    briefing: Mapped[bool] = mapped_column(Boolean, default=False)  # the 7:00 e-mail
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AlertWebhook(Base):
    """A receiver (a chat system's relay) that gets every alert of the chosen severities as a
    signed POST. Its secret is stored encrypted; it is shown once, when the webhook is made."""

    __tablename__ = "alert_webhooks"
    __audited__ = True
    __audit_redact__ = frozenset({"secret_encrypted"})

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    secret_encrypted: Mapped[str] = mapped_column(Text)
    severities: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def audit_label(self) -> str:
        return self.name


class AlertDelivery(Base):
    """One notification to send (an outbox): queued in the transaction that saw the alert, sent
    by the ``alerts.deliveries`` job, each on its own with its own timeout and backoff, so a
    receiver that hangs or fails delays only itself."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "channel", "target", name="uq_alert_deliveries_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer)  # the alert.* event it announces
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # email, webhook
    target: Mapped[str] = mapped_column(String(200))  # an address, or a webhook's id
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


Index("ix_alert_deliveries_due", AlertDelivery.status, AlertDelivery.next_at)


class DirectiveState(StrEnum):
    """Where one recipient unit is with a directive: receive → assign → follow → report."""

    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Directive(Base):
    """A direction (chỉ đạo) from the province or a department to units — or, ``kind`` request,
    a commune's request for support up to the province."""

    __tablename__ = "directives"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # CD-2026-000123
    kind: Mapped[str] = mapped_column(String(10), default="directive")  # directive, request
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(10), default="normal")  # normal, urgent, flash
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledge_by: Mapped[datetime] = mapped_column(UTCDateTime)
    issuer_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    issued_by: Mapped[str] = mapped_column(String(100))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    scenario: Mapped[str | None] = mapped_column(String(60))
    watch: Mapped[list[str]] = mapped_column(JSONType, default=list)  # indicator codes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    @property
    def audit_unit_id(self) -> int:
        return self.issuer_unit_id

    @property
    def audit_label(self) -> str:
        return f"{self.code} {self.title}"


class DirectiveRecipient(Base):
    __tablename__ = "directive_recipients"
    __audited__ = True
    __table_args__ = (UniqueConstraint("directive_id", "unit_id", name="uq_directive_recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    directive_id: Mapped[int] = mapped_column(
        ForeignKey("directives.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default=DirectiveState.SENT, index=True)
    assignee: Mapped[str | None] = mapped_column(String(100))
    percent: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a step found late
    overdue_step: Mapped[str | None] = mapped_column(String(12))  # acknowledge, result
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def audit_unit_id(self) -> int:
        return self.unit_id

    @property
    def audit_label(self) -> str:
        return f"directive #{self.directive_id} → unit #{self.unit_id}"


class DirectiveUpdate(Base):
    """A recipient's step: acknowledged, assigned, progress (with a share done), result."""

    __tablename__ = "directive_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("directive_recipients.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(14))
    text: Mapped[str | None] = mapped_column(Text)
    percent: Mapped[int | None] = mapped_column(Integer)


class DirectiveAttachment(Base):
    """A file attached to a directive by its issuer (``recipient_id`` null) or to a recipient's
    progress or result report. The bytes are under the data directory, named by their SHA-256
    (as citizen report photos); who may download it is who may see the directive."""

    __tablename__ = "directive_attachments"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    directive_id: Mapped[int] = mapped_column(
        ForeignKey("directives.id", ondelete="CASCADE"), index=True
    )
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("directive_recipients.id", ondelete="CASCADE")
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))  # the issuer's or recipient's
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(200))  # under <data_dir>/alerts/attachments
    uploaded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def audit_unit_id(self) -> int:
        return self.unit_id

    @property
    def audit_label(self) -> str:
        return f"{self.filename} (directive #{self.directive_id})"


class BriefingSend(Base):
    """The daily briefing e-mailed to one person on one day: claimed before it is sent, so a
    restart or a second worker never sends it twice; a failure is tried again that day."""

    __tablename__ = "briefing_sends"
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_briefing_sends_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[str] = mapped_column(String(10))  # 2026-04-20, province time
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
