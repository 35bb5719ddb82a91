"""In-app reminders to units whose report deadline is near or has passed (issue 5, part 7).

The scheduler runs :func:`send_reminders` every hour (``dieuhanh worker``, or the demo's own
scheduler). For every form, unit and period it creates at most one reminder of each kind — the
unique key (form, unit, period, kind) makes the job idempotent, so running it twice, or on two
workers, never sends a reminder twice:

- ``deadline_near``: the deadline (end of period end + timely_days, province time) is less than
  ``days_before`` days away and the unit has not completed the report;
- ``overdue``: the deadline of the form's most recent period has passed without a completion
  (only the most recent one: a unit years behind gets one notice, not one per missing month).
  The same transaction publishes ``report_form.overdue`` (the reminder's unique row is what
  makes it once per form × unit × period); completing the form publishes
  ``report_form.submitted`` (:mod:`.service`), so an alert rule can raise and resolve.

When ``mail.smtp_host`` is configured, the same job then e-mails the reminders to units that
have an e-mail address (:mod:`.mail`; ``emailed_at`` records it), after the
in-app reminders are committed, so a mail failure never loses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dieuhanh.core.db.base import utcnow
from dieuhanh.core.events import publish
from dieuhanh.core.jobs import Job
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.catalog.form_models import Reminder, ReminderKind, ReportForm, Submission
from dieuhanh.indicators.catalog.periods import Period, PeriodType, period_of
from dieuhanh.indicators.reporting.completeness import AssignedUnit, assigned_units, existed
from dieuhanh.indicators.reporting.locks import PROVINCE_ZONE, timely_deadline
from dieuhanh.indicators.reporting.mail import email_reminders
from dieuhanh.indicators.reporting.topics import FORM_OVERDUE, ReportFormEvent

DAYS_BEFORE = 2
EVERY_SECONDS = 3600


@dataclass(frozen=True)
class ReminderRun:
    created: int
    forms: int

    def __str__(self) -> str:
        return f"{self.created} reminders created for {self.forms} forms"


def due_periods(
    form: ReportForm, now: datetime, days_before: int
) -> tuple[list[Period], Period | None]:
    """The periods whose deadline is within ``days_before`` days, and the most recent period
    whose deadline has passed."""
    current = period_of(PeriodType(form.period_type), now.astimezone(PROVINCE_ZONE).date())
    near: list[Period] = []
    horizon = now + timedelta(days=days_before)
    period = current
    # Deadlines fall as periods go back, so the walk stops at the first one already passed.
    while True:
        deadline = timely_deadline(form, period)
        if deadline <= now:
            return near, period
        if deadline <= horizon:
            near.append(period)
        period = period.previous()


def send_reminders(
    session: Session, now: datetime | None = None, *, days_before: int = DAYS_BEFORE
) -> ReminderRun:
    """Create the reminders due now; the caller commits."""
    now = now or utcnow()
    forms = list(session.scalars(select(ReportForm).order_by(ReportForm.code)))
    created = 0
    for form in forms:
        near, overdue = due_periods(form, now, days_before)
        for period in near:
            created += _remind(session, form, period, ReminderKind.DEADLINE_NEAR, now)
        if overdue is not None:
            created += _remind(session, form, overdue, ReminderKind.OVERDUE, now)
    return ReminderRun(created=created, forms=len(forms))


def _remind(
    session: Session, form: ReportForm, period: Period, kind: ReminderKind, now: datetime
) -> int:
    units = [u for u in assigned_units(session, form) if existed(u, period)]
    if not units:
        return 0
    ids = [u.id for u in units]
    done = set(
        session.scalars(
            select(Submission.unit_id).where(
                Submission.form_id == form.id,
                Submission.period_code == period.code,
                Submission.unit_id.in_(ids),
            )
        )
    )
    told = set(
        session.scalars(
            select(Reminder.unit_id).where(
                Reminder.form_id == form.id,
                Reminder.period_code == period.code,
                Reminder.kind == kind.value,
                Reminder.unit_id.in_(ids),
            )
        )
    )
    message = _message(form, period, kind)
    created = 0
    for unit in units:
        if unit.id in done or unit.id in told:
            continue
        try:
            with session.begin_nested():
                session.add(
                    Reminder(
                        form_id=form.id,
                        unit_id=unit.id,
                        period_code=period.code,
                        kind=kind.value,
                        message=message,
                    )
                )
                if kind is ReminderKind.OVERDUE:
                    _announce_overdue(session, form, period, unit, now)
            created += 1
        except IntegrityError:  # another worker created it between our read and our write
            continue
    return created


def _announce_overdue(
    session: Session, form: ReportForm, period: Period, unit: AssignedUnit, now: datetime
) -> None:
    # Inside the reminder's savepoint: if another worker wrote the reminder first, the event
    # goes with our rolled-back row, so it is published once.
    publish(session, FORM_OVERDUE, ReportFormEvent(
        form=form.code, form_name=form.name, unit_code=unit.code, unit_name=unit.name,
        period=period.code, period_label=period.label("vi"),
        deadline=timely_deadline(form, period), on_time=None, by="system", at=now,
    ), unit_id=unit.id)  # fmt: skip


def _message(form: ReportForm, period: Period, kind: ReminderKind) -> str:
    # The deadline people read is the last day still on time, not the instant after it.
    last_day = (timely_deadline(form, period) - timedelta(days=1)).strftime("%d/%m/%Y")
    if kind is ReminderKind.DEADLINE_NEAR:
        return f"{form.name}, {period.label('vi')}: hạn nộp đến hết ngày {last_day}."
    return f"{form.name}, {period.label('vi')}: đã quá hạn nộp (hạn đến hết ngày {last_day})."


def resolved(session: Session, reminders: Sequence[Reminder]) -> set[int]:
    """Ids of deadline reminders whose report has been completed since."""
    keys = {
        (r.form_id, r.unit_id, r.period_code)
        for r in reminders
        if r.kind in (ReminderKind.DEADLINE_NEAR, ReminderKind.OVERDUE)
    }
    if not keys:
        return set()
    done = {
        (form_id, unit_id, code)
        for form_id, unit_id, code in session.execute(
            select(Submission.form_id, Submission.unit_id, Submission.period_code).where(
                tuple_(Submission.form_id, Submission.unit_id, Submission.period_code).in_(
                    sorted(keys)
                )
            )
        )
    }
    return {r.id for r in reminders if (r.form_id, r.unit_id, r.period_code) in done}


def remind(runtime: Runtime, now: datetime | None = None) -> str:
    """One run of the reminder job: the in-app reminders (committed), then their e-mail."""
    now = now or utcnow()
    with runtime.sessions() as session:
        run = send_reminders(session, now)
        session.commit()
    if not runtime.settings.mail.smtp_host:
        return str(run)
    return f"{run}; {email_reminders(runtime.sessions, runtime.settings.mail, now)}"


def jobs(runtime: Runtime) -> list[Job]:
    return [
        Job(
            "report-reminders",
            EVERY_SECONDS,
            lambda: remind(runtime),
            description="Reminds units of report deadlines near and passed (and e-mails them).",
            # A run takes seconds: a worker killed mid-run is replaced after 10 min, not 2 h.
            timeout_seconds=600,
        )
    ]
