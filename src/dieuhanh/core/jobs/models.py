"""The one row per background job that every process reads and the schedulers write."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dieuhanh.core.db.base import Base, UTCDateTime

NAME_LENGTH = 60  # an audit entry names the job in 60 characters
MESSAGE_LENGTH = 500
PROCESS_LENGTH = 200


class JobRecord(Base):
    """A job's definition as its scheduler last registered it, its last run and its lease.

    A scheduler owns a run while ``lease_until`` is in the future; the lease expires on its own,
    so a process killed mid-run blocks the job only until then. Schedulers write with single
    UPDATE statements (not audited: they are bookkeeping); a person's request to run a job now
    goes through the ORM and is audited.
    """

    __tablename__ = "jobs"
    __audited__ = True

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    interval_seconds: Mapped[float] = mapped_column(Float)
    timeout_seconds: Mapped[float] = mapped_column(Float)  # the lease of one run
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_duration_s: Mapped[float | None] = mapped_column(Float)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[str | None] = mapped_column(String(MESSAGE_LENGTH))
    last_error: Mapped[str | None] = mapped_column(String(MESSAGE_LENGTH))
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures_in_a_row: Mapped[int] = mapped_column(Integer, default=0)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    # host:pid:token of the process running it now (lease in the future) or that ran it last.
    last_run_by: Mapped[str | None] = mapped_column(String(PROCESS_LENGTH))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    run_requested_by: Mapped[str | None] = mapped_column(String(100))
    run_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def audit_label(self) -> str:
        return self.name

    def running(self, now: datetime) -> bool:
        return self.lease_until is not None and self.lease_until > now
