"""E-mail copies of deadline reminders, when ``mail.smtp_host`` is set (issue 5, part 7).

The ``report-reminders`` job first creates and commits the in-app reminders, then calls
:func:`email_reminders`, which sends one Vietnamese e-mail per reminder that:

- is a deadline reminder (``deadline_near`` or ``overdue``) not yet e-mailed (``emailed_at``
  empty);
- belongs to a unit with an e-mail address in its profile (several may be separated by , or ;);
- is still true: the report is not completed, a ``deadline_near`` reminder's deadline has not
  passed, and an ``overdue`` reminder is for the form's most recent overdue period. Turning
  e-mail on after months without it therefore does not flood a unit with stale notices.

All of a run's messages go over one SMTP connection, opened only when there is something to send.
Each reminder is claimed before it is sent (``emailed_at`` set where it was empty, committed), so
two workers never send the same one; if sending fails the claim is undone and the next run
retries. A failure is logged with its reason (never the password) and never touches the in-app
reminders: a refused connection or login stops this run's e-mail, a refused or malformed address
skips that one message. There is no link to the entry page: the configuration has no public base
URL for the web UI, so the body names the page ("Nhập số liệu") instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, sessionmaker

from dieuhanh.core.config import MailSettings
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.mail import MailError, connect, new_message, recipients
from dieuhanh.indicators.catalog.form_models import Reminder, ReminderKind, ReportForm, Submission
from dieuhanh.indicators.catalog.periods import Period, PeriodError, parse_period
from dieuhanh.indicators.reporting.locks import timely_deadline
from dieuhanh.units.models import Unit

log = logging.getLogger(__name__)

KINDS = (ReminderKind.DEADLINE_NEAR, ReminderKind.OVERDUE)


@dataclass(frozen=True)
class Notice:
    """What one reminder e-mail says, read before any message is sent."""

    reminder_id: int
    kind: ReminderKind
    message: str
    form_code: str
    form_name: str
    period: Period
    last_day: date  # the last day still on time
    unit_code: str
    unit_name: str
    email: str

    @property
    def subject(self) -> str:
        what = "Nhắc hạn báo cáo" if self.kind is ReminderKind.DEADLINE_NEAR else "Quá hạn báo cáo"
        return f"[DieuHanh] {what}: {self.form_name} kỳ {self.period.label('vi')}"

    @property
    def body(self) -> str:
        state = (
            "chưa hoàn thành"
            if self.kind is ReminderKind.DEADLINE_NEAR
            else "đã quá hạn, chưa hoàn thành"
        )
        return "\n".join(
            [
                f"Kính gửi: {self.unit_name}",
                "",
                self.message,
                "",
                f"Biểu mẫu: {self.form_name} (mã {self.form_code})",
                f"Kỳ báo cáo: {self.period.label('vi')}",
                f"Hạn nộp: đến hết ngày {self.last_day.strftime('%d/%m/%Y')}",
                f"Tình trạng: {state}",
                "",
                'Đề nghị đơn vị đăng nhập hệ thống DieuHanh, mục "Nhập số liệu", chọn biểu mẫu '
                "và kỳ báo cáo trên để nhập và hoàn thành báo cáo.",
                "",
                "--",
                "Thư được gửi tự động từ hệ thống DieuHanh; vui lòng không trả lời thư này. "
                "Nhắc nhở này cũng hiển thị trong ứng dụng.",
                "",
            ]
        )


@dataclass(frozen=True)
class MailRun:
    sent: int = 0
    failed: int = 0
    error: str | None = None  # why this run's e-mail stopped (connection, login)

    def __str__(self) -> str:
        text = f"{self.sent} reminders e-mailed"
        if self.failed:
            text += f", {self.failed} failed"
        if self.error:
            text += f" (e-mail stopped: {self.error})"
        return text


def pending(session: Session, now: datetime) -> list[Notice]:
    """The reminders to e-mail now, oldest first."""
    completed = (
        select(Submission.id)
        .where(
            Submission.form_id == Reminder.form_id,
            Submission.unit_id == Reminder.unit_id,
            Submission.period_code == Reminder.period_code,
        )
        .exists()
    )
    rows = session.execute(
        select(Reminder, ReportForm, Unit.code, Unit.name, Unit.email)
        .join(ReportForm, ReportForm.id == Reminder.form_id)
        .join(Unit, Unit.id == Reminder.unit_id)
        .where(
            Reminder.emailed_at.is_(None),
            Reminder.kind.in_([k.value for k in KINDS]),
            Unit.email.is_not(None),
            Unit.email != "",
            ~completed,
        )
        .order_by(Reminder.id)
    )
    notices = []
    for reminder, form, unit_code, unit_name, email in rows:
        try:
            period = parse_period(reminder.period_code)
        except PeriodError:
            continue
        kind = ReminderKind(reminder.kind)
        if kind is ReminderKind.DEADLINE_NEAR:
            current = now < timely_deadline(form, period)
        else:  # still the most recent period past its deadline
            current = now < timely_deadline(form, period.next())
        if not current:
            continue
        notices.append(
            Notice(
                reminder_id=reminder.id,
                kind=kind,
                message=reminder.message,
                form_code=form.code,
                form_name=form.name,
                period=period,
                last_day=period.end + timedelta(days=form.timely_days),
                unit_code=unit_code,
                unit_name=unit_name,
                email=email or "",
            )
        )
    return notices


def email_reminders(
    sessions: sessionmaker[Session], settings: MailSettings, now: datetime | None = None
) -> MailRun:
    """Send the pending reminder e-mails over one connection; see the module's description."""
    now = now or utcnow()
    with sessions() as session:
        notices = pending(session, now)
        failed = 0
        ready = []
        for notice in notices:
            try:
                to = recipients(notice.email)
            except MailError as exc:
                failed += 1
                _log_failure(notice, exc)
                continue
            ready.append((notice, new_message(settings, to, notice.subject, notice.body)))
        if not ready:
            return MailRun(failed=failed)
        sent = 0
        try:
            with connect(settings) as smtp:
                for notice, message in ready:
                    if not _claim(session, notice.reminder_id):
                        continue  # another worker is sending it, or has sent it
                    try:
                        smtp.send(message)
                    except MailError as exc:
                        _release(session, notice.reminder_id)
                        if exc.fatal:
                            raise
                        failed += 1
                        _log_failure(notice, exc)
                        continue
                    sent += 1
        except MailError as exc:
            log.error(
                "reminder e-mail: %s; %d of %d reminders e-mailed, the others are retried on the "
                "next run (the in-app reminders are not affected)",
                exc.reason,
                sent,
                len(ready),
            )
            return MailRun(sent=sent, failed=failed, error=exc.reason)
    if sent:
        log.info("reminder e-mail: %d sent via %s", sent, settings.smtp_host)
    return MailRun(sent=sent, failed=failed)


def _claim(session: Session, reminder_id: int) -> bool:
    claimed = session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.emailed_at.is_(None))
        .values(emailed_at=utcnow())
    )
    session.commit()
    return cast(CursorResult[Any], claimed).rowcount == 1


def _release(session: Session, reminder_id: int) -> None:
    session.execute(update(Reminder).where(Reminder.id == reminder_id).values(emailed_at=None))
    session.commit()


def _log_failure(notice: Notice, exc: MailError) -> None:
    log.error(
        "reminder e-mail to %s (unit %s, form %s, period %s) not sent: %s",
        notice.email,
        notice.unit_code,
        notice.form_code,
        notice.period.code,
        exc.reason,
    )
