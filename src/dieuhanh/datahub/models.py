"""The data hub's tables: sources, their runs, the raw payloads runs keep, and dataset records.

Provenance runs through these rows: a stored data value's ``source_detail`` names the source,
the run and the payload (``datahub:<code> run <id> payload <id>``); a dataset record keeps its
run and payload. The payload is the exact response, file or message, compressed, so a figure on
a dashboard leads back to the bytes that produced it until the payload's retention ends.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dieuhanh.core.db.base import Base, JSONType, UTCDateTime, utcnow


class SourceState(StrEnum):
    """How current a source is: what `GET /api/v1/sources` and the status page show."""

    LIVE = "live"  # its last run succeeded and is recent enough for its freshness
    LATE = "late"  # its last success is older than its freshness allows
    FAILING = "failing"  # its last run failed
    NEVER = "never"  # it never succeeded yet


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # every record stored or rejected one by one (see `rejected`)
    FAILED = "failed"  # the run stopped; what it stored before stopping stays


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    UPLOAD = "upload"
    PUSH = "push"


class DataSource(Base):
    __tablename__ = "data_sources"
    __audited__ = True
    # The sync job's own bookkeeping changes on every run; the audit log keeps people's changes.
    __audit_ignore__ = frozenset(
        {
            "state", "state_reason", "state_since", "last_run_at", "last_success_at",
            "last_error", "failures", "next_run_at", "cursor", "running_until", "updated_at",
        }
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    config: Mapped[dict[str, Any]] = mapped_column(JSONType)
    schedule: Mapped[str | None] = mapped_column(String(100))  # cron; None: on demand only
    freshness: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    enabled: Mapped[bool] = mapped_column(default=True)
    state: Mapped[str] = mapped_column(String(10), default=SourceState.NEVER)
    state_reason: Mapped[str | None] = mapped_column(Text)
    state_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # runs failed in a row
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Incremental state per resource: the highest cursor value stored so far.
    cursor: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Held while a run is going on, so two processes (or a click during a schedule) do not run
    # one source side by side; past it a crashed run's source can run again.
    running_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A push source's token, as its SHA-256: shown once when made, never stored or logged.
    push_token_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def audit_label(self) -> str:
        return self.code


class SourceRun(Base):
    __tablename__ = "source_runs"
    __table_args__ = (Index("ix_source_runs_source_started", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("data_sources.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(10))
    started_by: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default=RunStatus.RUNNING)
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # The first rejections, each {payload, record, field, message}: enough to fix the source.
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)


class RunPayload(Base):
    """One response (or file, or message) exactly as received, zlib-compressed."""

    __tablename__ = "run_payloads"
    __table_args__ = (Index("ix_run_payloads_run", "run_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("source_runs.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)  # 1, 2, … within the run
    resource: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str] = mapped_column(Text)  # the URL (secrets scrubbed), file or topic
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)  # uncompressed bytes
    sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    records: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class DatasetRecord(Base):
    """A non-aggregate record (a dossier, a hotline case, a document) kept as a row."""

    __tablename__ = "dataset_records"
    __table_args__ = (UniqueConstraint("dataset", "record_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset: Mapped[str] = mapped_column(String(60))  # indexed by the unique key
    record_key: Mapped[str] = mapped_column(String(200))
    source_id: Mapped[int] = mapped_column(ForeignKey("data_sources.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    fingerprint: Mapped[str] = mapped_column(String(64))  # of the data: a rerun changes nothing
    # The record's values folded (no accents, lower case): what the records page searches.
    search_text: Mapped[str] = mapped_column(Text, default="")
    first_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_runs.id", ondelete="SET NULL")
    )
    run_id: Mapped[int | None] = mapped_column(ForeignKey("source_runs.id", ondelete="SET NULL"))
    payload_id: Mapped[int | None] = mapped_column(
        ForeignKey("run_payloads.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatasetAggregate(Base):
    """A dataset turned into data values (e.g. overdue dossiers per commune per month)."""

    __tablename__ = "dataset_aggregates"
    __audited__ = True
    __audit_ignore__ = frozenset({"last_run_at", "last_result", "updated_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    figure: Mapped[dict[str, Any]] = mapped_column(JSONType)  # a figures.Figure over a dataset
    element: Mapped[str] = mapped_column(String(50))
    option: Mapped[str | None] = mapped_column(String(50))
    periods: Mapped[str] = mapped_column(String(200))  # e.g. "LAST_12_MONTHS;THIS_MONTH"
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def audit_label(self) -> str:
        return self.code


class Reconciliation(Base):
    """Two figures of the same thing from two sources (đối soát), lined up by unit and period."""

    __tablename__ = "reconciliations"
    __audited__ = True
    __audit_ignore__ = frozenset({"last_run_at", "last_result", "updated_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    left: Mapped[dict[str, Any]] = mapped_column(JSONType)
    right: Mapped[dict[str, Any]] = mapped_column(JSONType)
    periods: Mapped[str] = mapped_column(String(200))
    tolerance_absolute: Mapped[float] = mapped_column(default=0.0)
    tolerance_relative: Mapped[float] = mapped_column(default=0.0)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def audit_label(self) -> str:
        return self.code


class MismatchState(StrEnum):
    OPEN = "open"  # the two figures differ beyond the tolerance
    RESOLVED = "resolved"  # a person explained it (which figure is right, and why)
    CLEARED = "cleared"  # the figures agree again (a source was corrected)


class ReconciliationMismatch(Base):
    """One difference, from when it was first seen to its resolution: the history stays."""

    __tablename__ = "reconciliation_mismatches"
    __table_args__ = (Index("ix_reconciliation_mismatches_state", "reconciliation_id", "state"),)
    __audited__ = True
    __audit_ignore__ = frozenset({"left_value", "right_value", "difference", "last_seen_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(
        ForeignKey("reconciliations.id", ondelete="CASCADE")
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    period_code: Mapped[str] = mapped_column(String(12))
    left_value: Mapped[float | None] = mapped_column()
    right_value: Mapped[float | None] = mapped_column()
    difference: Mapped[float] = mapped_column()
    state: Mapped[str] = mapped_column(String(10), default=MismatchState.OPEN)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(Text)

    @property
    def audit_unit_id(self) -> int:
        return self.unit_id


class SensorReading(Base):
    """One reading of a sensor (water level, rainfall, PM2.5), from an MQTT source."""

    __tablename__ = "sensor_readings"
    __table_args__ = (
        UniqueConstraint("source_id", "device", "metric", "at"),
        Index("ix_sensor_readings_unit_metric_at", "unit_id", "metric", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("data_sources.id", ondelete="CASCADE"))
    device: Mapped[str] = mapped_column(String(100))
    metric: Mapped[str] = mapped_column(String(60))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[float] = mapped_column()
    run_id: Mapped[int | None] = mapped_column(ForeignKey("source_runs.id", ondelete="SET NULL"))
    payload_id: Mapped[int | None] = mapped_column(
        ForeignKey("run_payloads.id", ondelete="SET NULL")
    )


class DatasetSchema(Base):
    """A dataset's fields as a person confirmed them (inferred from its records first)."""

    __tablename__ = "dataset_schemas"
    __audited__ = True

    dataset: Mapped[str] = mapped_column(String(60), primary_key=True)
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)  # [{name, type, label}]
    confirmed_by: Mapped[str] = mapped_column(String(100))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def audit_label(self) -> str:
        return self.dataset
