"""E-mail to the reporter, when they left an address: a receipt with the report's code and its
link (to follow it, rate it, reopen it), the unit's answer once resolved, the reason when it is
refused, and word that a reopened report is back with the unit. A subscriber on
the report topics (``citizen.reporter_mail``), so a mail server that is down delays the mail
(the subscriber retries with backoff) and never a report. Nothing is sent while
``mail.smtp_host`` is empty."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.citizen import topics
from dieuhanh.citizen.models import CitizenReport, ReportEvent
from dieuhanh.core.events import EventRecord, Subscription
from dieuhanh.core.mail import MailError, connect, new_message
from dieuhanh.core.runtime import Runtime

log = logging.getLogger(__name__)
SUBSCRIBER = "citizen.reporter_mail"


def subscriptions(runtime: Runtime) -> list[Subscription]:
    def handle(session: Session, event: EventRecord) -> None:
        send(session, runtime, event.topic, str(event.payload["code"]))

    mailed = (topics.CREATED, topics.RESOLVED, topics.REFUSED, topics.REOPENED)
    return [Subscription(SUBSCRIBER, mailed, handle)]


def send(session: Session, runtime: Runtime, topic: str, code: str) -> bool:
    """Mail the reporter about this step; False when there is no one or nothing to send."""
    settings = runtime.settings
    report = session.scalar(select(CitizenReport).where(CitizenReport.code == code))
    if report is None or not report.contact_email or not settings.mail.smtp_host:
        return False
    link = f"{settings.citizen.public_url.rstrip('/')}/phan-anh/{report.code}?t={report.token}"
    if topic == topics.CREATED:
        subject = f"Đã nhận phản ánh {report.code}"
        body = (
            f"Phản ánh của bạn đã được tiếp nhận với mã {report.code}.\n\n"
            f"Theo dõi, đánh giá hoặc phản ánh lại tại: {link}\n"
        )
    elif topic == topics.RESOLVED:
        subject = f"Phản ánh {report.code} đã được xử lý"
        body = (
            f"Kết quả xử lý phản ánh {report.code}:\n\n{report.answer or ''}\n\n"
            f"Nếu chưa được xử lý xong, bạn có thể phản ánh lại tại: {link}\n"
        )
    elif topic == topics.REFUSED:
        subject = f"Phản ánh {report.code} không được tiếp nhận"
        body = (
            f"Phản ánh {report.code} không được tiếp nhận. Lý do:\n\n"
            f"{_last_public_note(session, report, 'refuse')}\n\nChi tiết: {link}\n"
        )
    else:
        subject = f"Phản ánh {report.code} đã được mở lại"
        body = (
            f"Phản ánh {report.code} đã được mở lại và chuyển lại cho đơn vị xử lý.\n\n"
            f"Theo dõi tại: {link}\n"
        )
    message = new_message(settings.mail, [report.contact_email], subject, body)
    try:
        with connect(settings.mail) as connection:
            connection.send(message)
    except MailError as exc:
        if exc.fatal:
            raise  # the server: the subscriber tries again later
        log.warning("report %s: mail to the reporter refused: %s", report.code, exc)
        return False
    return True


def _last_public_note(session: Session, report: CitizenReport, action: str) -> str:
    note = session.scalar(
        select(ReportEvent.note)
        .where(ReportEvent.report_id == report.id, ReportEvent.action == action,
               ReportEvent.public.is_(True))
        .order_by(ReportEvent.id.desc())
        .limit(1)
    )  # fmt: skip
    return note or ""
