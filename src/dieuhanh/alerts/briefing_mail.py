"""The daily briefing e-mailed at 7:00 (``alerts.briefing_hour``, province time) to the people
who asked for it (``briefing: true`` in their alert preferences): the briefing of their own unit,
as text and HTML, with a link to the page — the sections other capabilities contribute first
(``core.briefing_sections``: the assistant's situation in words, each sentence with its query and
where to check it), then the alerts' own.

Once per person and day across restarts and workers: the job first claims a ``briefing_sends``
row per person for the day (unique: a second worker's claim fails), commits, and only then
sends; a row is marked sent, or tried again on the next run (three attempts in all), then left
``failed`` with its error. A worker that was down at 7:00 sends the day's briefing when it comes
back that day; a day missed entirely is not sent late.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from html import escape
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dieuhanh.alerts.briefing import briefing
from dieuhanh.alerts.briefing_sections import contributed
from dieuhanh.alerts.models import AlertPreference, BriefingSend
from dieuhanh.auth.models import User
from dieuhanh.auth.service import principal_for
from dieuhanh.core.config import Settings
from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.mail import Connection, MailError, connect, new_message
from dieuhanh.core.runtime import Runtime

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
MAIL_LINES = 10  # per section in the e-mail; the page has the rest
SEVERITY = {"critical": "Khẩn cấp", "major": "Nghiêm trọng", "minor": "Nhẹ",
            "warning": "Cảnh giác", "info": "Thông tin"}  # fmt: skip
STEP = {"acknowledge": "chưa tiếp nhận", "result": "chưa báo cáo kết quả"}


def due_day(settings: Settings, now: datetime) -> date | None:
    """Today (province time) once the briefing hour has come, else None."""
    local = now.astimezone(settings.zone)
    return local.date() if local.hour >= settings.alerts.briefing_hour else None


def claim(session: Session, day: date) -> int:
    """A pending send for every subscribed person without one today; how many were claimed."""
    wanted = session.scalars(
        select(User).join(AlertPreference, AlertPreference.user_id == User.id)
        .where(AlertPreference.briefing, User.is_active, User.email.is_not(None))
    ).all()  # fmt: skip
    claimed = 0
    for user in wanted:
        try:
            with session.begin_nested():
                session.add(BriefingSend(user_id=user.id, day=day.isoformat(), status="pending",
                                         attempts=0))  # fmt: skip
            claimed += 1
        except IntegrityError:
            pass  # claimed already (an earlier run, another worker)
    return claimed


def send_briefings(runtime: Runtime, now: datetime) -> str:
    """One run of the job: claim today's sends, then send those still pending."""
    settings = runtime.settings
    day = due_day(settings, now)
    if day is None:
        return "not yet time"
    if not settings.mail.smtp_host:
        return "mail.smtp_host is empty: no briefing e-mailed"
    with runtime.sessions() as session:
        set_actor(session, SYSTEM)
        claim(session, day)
        session.commit()
        today = BriefingSend.day == day.isoformat()
        pending = session.scalars(
            select(BriefingSend.id).where(today, BriefingSend.status == "pending")
        ).all()
    if not pending:
        return "0 sent"
    sent = failed = 0
    try:
        with connect(settings.mail) as connection:
            for send_id in pending:
                ok = _send_one(runtime, connection, send_id, day, now)
                sent, failed = sent + ok, failed + (not ok)
    except MailError as exc:  # the server could not be reached: every one waits for next run
        log.warning("daily briefing not sent: %s", exc)
        return f"{sent} sent; {exc}"
    return f"{sent} sent, {failed} failed"


def _send_one(
    runtime: Runtime, connection: Connection, send_id: int, day: date, now: datetime
) -> bool:
    settings = runtime.settings
    with runtime.sessions() as session:
        set_actor(session, SYSTEM)
        row = session.get_one(BriefingSend, send_id)
        user = session.get_one(User, row.user_id)
        row.attempts += 1
        try:
            principal = principal_for(session, user, via="notification")
            found = briefing(session, principal, None, day, settings.timezone)
            found["sections"] = contributed(session, runtime, principal, found, now)
            text, html = render(found, link(settings, found["unit"]["code"], day), _base(settings))
            subject = f"Bản tin điều hành ngày {day:%d/%m/%Y} — {found['unit']['name']}"
            connection.send(new_message(settings.mail, [user.email or ""], subject, text, html))
        except MailError as exc:
            row.last_error = exc.reason[:2000]
            row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"
            session.commit()
            if exc.fatal:
                raise
            return False
        row.status, row.sent_at, row.last_error = "sent", now, None
        session.commit()
        return True


def _base(settings: Settings) -> str:
    return settings.alerts.cap_public_url.rstrip("/")


def link(settings: Settings, unit_code: str, day: date) -> str:
    return f"{_base(settings)}/briefing?unit={unit_code}&date={day.isoformat()}"


def sections(found: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The briefing as headings and lines, for both the text and the HTML."""
    alerts, directives = found["alerts"], found["directives"]
    indicators, sources, reports = found["indicators"], found["sources"], found["reports"]
    counts = ", ".join(f"{SEVERITY[s].lower()} {n}" for s, n in alerts["by_severity"].items() if n)
    return [
        (f"Cảnh báo: {alerts['raised']} mới{f' ({counts})' if counts else ''}, "
         f"{alerts['still_open']} chưa xử lý xong",
         [f"{SEVERITY[a['severity']]} — {a['title']}" for a in alerts["lines"]]),
        (f"Chỉ đạo chậm: {directives['late']}",
         [f"{d['code']} {d['title']} — {d['unit']}: {STEP.get(d['step'], d['step'])}"
          f"{' (đã chuyển lên tỉnh)' if d['escalated'] else ''}" for d in directives["lines"]]),
        (f"Chỉ tiêu đổi mức: {indicators['moved']}",
         [f"{i['indicator']} — {i['unit']}, kỳ {i['period']}: {i['value']} "
          f"({i['previous_color'] or '–'} → {i['color'] or '–'})" for i in indicators["lines"]]),
        (f"Nguồn dữ liệu chậm hoặc lỗi: {sources['stale']}",
         [f"{s['source']}: {s['state']} — {s['reason'] or ''}" for s in sources["lines"]]),
        (f"Phản ánh của người dân: {reports['received']} mới, {reports['overdue']} quá hạn, "
         f"{reports['escalated']} chuyển lên tỉnh", []),
    ]  # fmt: skip


def render(found: dict[str, Any], url: str, base: str) -> tuple[str, str]:
    """(text, HTML) of the e-mail: the contributed sections (the situation in words) first, then
    the alerts' own."""
    start, end = found["start"], found["end"]
    when = f"24 giờ đến {end:%H:%M} ngày {end:%d/%m/%Y} (từ {start:%H:%M} ngày {start:%d/%m/%Y})"
    title = f"Bản tin điều hành — {found['unit']['name']}"
    text = [title, when, ""]
    html = [f"<h1>{escape(title)}</h1>", f"<p>{escape(when)}</p>"]
    for section in found.get("sections", []):
        sentences = section["sentences"][:MAIL_LINES]
        text += [section["title"], *(line for s in sentences for line in _text(s, base)), ""]
        html.append(f"<h2>{escape(section['title'])}</h2>")
        html.append("<ul>" + "".join(_html(s, base) for s in sentences) + "</ul>")
    for heading, lines in sections(found):
        more = len(lines) - MAIL_LINES
        shown = lines[:MAIL_LINES] + ([f"… và {more} mục khác"] if more > 0 else [])
        text += [heading, *(f"  - {line}" for line in shown), ""]
        html.append(f"<h2>{escape(heading)}</h2>")
        if shown:
            html.append("<ul>" + "".join(f"<li>{escape(line)}</li>" for line in shown) + "</ul>")
    text.append(f"Xem đầy đủ: {url}")
    html.append(f'<p><a href="{escape(url)}">Xem bản tin đầy đủ</a></p>')
    return "\n".join(text) + "\n", "\n".join(html)


def _text(sentence: dict[str, Any], base: str) -> list[str]:
    lines = [f"  - {sentence['text']}", f"    Kiểm tra: {base}{sentence['link']}"]
    if sentence["query"]:
        lines.append(f"    Truy vấn: {sentence['query']}")
    return lines


def _html(sentence: dict[str, Any], base: str) -> str:
    """A contributed sentence: its text, where to check it, and the query that gave it — all
    the contributor's words escaped (plain data, never HTML)."""
    check = f'<a href="{escape(base + sentence["link"])}">kiểm tra</a>'
    query = ""
    if sentence["query"]:
        data = sentence["data"]
        api = f' · <a href="{escape(base + data)}">dữ liệu (API)</a>' if data else ""
        query = f"<br><small>Truy vấn: {escape(sentence['query'])}{api}</small>"
    return f"<li>{escape(sentence['text'])} ({check}){query}</li>"
