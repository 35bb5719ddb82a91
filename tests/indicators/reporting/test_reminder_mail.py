"""Reminder e-mail over a real SMTP conversation with a small server on loopback.

The server (asyncio, in a thread) speaks enough SMTP for :mod:`smtplib`: EHLO/HELO, AUTH
PLAIN/LOGIN against one account (535 otherwise), MAIL FROM, RCPT TO (550 for addresses it is told
to refuse), DATA with dot-unstuffing, RSET, NOOP, QUIT. It keeps every message it accepted.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from typing import Any

import pytest
from sqlalchemy import select

from dieuhanh.core.config import ConfigError, load_settings
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.catalog.form_models import Reminder
from dieuhanh.indicators.reporting.reminders import jobs, remind
from tests.indicators import builders as b
from tests.indicators.reporting.test_reminders import NOW, setup_form

SMTP_USER = "ioc-dieuhanh"
SMTP_PASSWORD = "smtp-Pa55-ioc-dong-nai"
FROM = "IOC Đồng Nai <ioc@dongnai.gov.vn>"
MAIL_A = "xa-a@dongnai.gov.vn"
MAIL_B = "xa-b@dongnai.gov.vn"


@dataclass
class Received:
    mail_from: str
    rcpt_to: list[str]
    data: bytes

    def parsed(self) -> EmailMessage:
        message = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class SmtpServer:
    username: str | None = None
    password: str | None = None
    refuse: set[str] = field(default_factory=set)
    echo_credentials: bool = False  # a careless server that repeats the password in its 535
    close_after: int | None = None  # messages accepted before it answers 421 and hangs up
    messages: list[Received] = field(default_factory=list)
    connections: int = 0
    rejected_logins: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> SmtpServer:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._session, "127.0.0.1", 0), self._loop
        ).result(5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1

        async def reply(*lines: str) -> None:
            for i, line in enumerate(lines):
                code, _, text = line.partition(" ")
                sep = " " if i == len(lines) - 1 else "-"
                writer.write(f"{code}{sep}{text}\r\n".encode())
            await writer.drain()

        async def read_b64() -> str:
            return base64.b64decode((await reader.readline()).strip()).decode()

        authenticated = self.username is None
        mail_from: str | None = None
        rcpt_to: list[str] = []
        await reply("220 test.local ESMTP DieuHanh test server")
        try:
            while line := await reader.readline():
                verb, _, arg = line.decode("utf-8", "replace").rstrip("\r\n").partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    extensions = ["250 test.local", "250 8BITMIME", "250 SMTPUTF8"]
                    if self.username is not None:
                        extensions.append("250 AUTH PLAIN LOGIN")
                    await reply(*extensions)
                elif verb == "HELO":
                    await reply("250 test.local")
                elif verb == "AUTH":
                    mechanism, _, initial = arg.partition(" ")
                    if mechanism.upper() == "PLAIN":
                        if not initial:
                            await reply("334 ")
                            initial = (await reader.readline()).decode().strip()
                        _, user, password = base64.b64decode(initial).decode().split("\0")
                    elif mechanism.upper() == "LOGIN":
                        if initial:
                            user = base64.b64decode(initial).decode()
                        else:
                            await reply("334 VXNlcm5hbWU6")
                            user = await read_b64()
                        await reply("334 UGFzc3dvcmQ6")
                        password = await read_b64()
                    else:
                        await reply("504 5.5.4 mechanism not supported")
                        continue
                    if (user, password) == (self.username, self.password):
                        authenticated = True
                        await reply("235 2.7.0 Authentication successful")
                    else:
                        self.rejected_logins += 1
                        echo = f" ({user}:{password})" if self.echo_credentials else ""
                        await reply(f"535 5.7.8 Authentication credentials invalid{echo}")
                elif verb == "MAIL":
                    if self.close_after is not None and len(self.messages) >= self.close_after:
                        await reply("421 4.3.2 service shutting down")
                        break
                    if not authenticated:
                        await reply("530 5.7.0 Authentication required")
                        continue
                    mail_from, rcpt_to = _angle(arg), []
                    await reply("250 2.1.0 OK")
                elif verb == "RCPT":
                    address = _angle(arg)
                    if mail_from is None:
                        await reply("503 5.5.1 MAIL first")
                    elif address in self.refuse:
                        await reply(f"550 5.1.1 <{address}>: mailbox unavailable")
                    else:
                        rcpt_to.append(address)
                        await reply("250 2.1.5 OK")
                elif verb == "DATA":
                    if mail_from is None or not rcpt_to:
                        await reply("503 5.5.1 no valid recipients")
                        continue
                    await reply("354 End data with <CR><LF>.<CR><LF>")
                    data = bytearray()
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        data += chunk[1:] if chunk.startswith(b".") else chunk
                    self.messages.append(Received(mail_from, rcpt_to, bytes(data)))
                    mail_from, rcpt_to = None, []
                    await reply("250 2.0.0 queued")
                elif verb == "RSET":
                    mail_from, rcpt_to = None, []
                    await reply("250 2.0.0 OK")
                elif verb == "NOOP":
                    await reply("250 2.0.0 OK")
                elif verb == "QUIT":
                    await reply("221 2.0.0 Bye")
                    break
                else:
                    await reply("502 5.5.2 command not recognised")
        finally:
            writer.close()


def _angle(arg: str) -> str:
    """The address in ``FROM:<a@b> SIZE=…`` or ``TO:<a@b>``."""
    return arg.partition("<")[2].partition(">")[0]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(username=SMTP_USER, password=SMTP_PASSWORD).start()
    yield server
    server.stop()


def mail_settings(port: int, **overrides: Any) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "starttls": False,  # the loopback server has no certificate; TLS is smtplib's own
        "username": SMTP_USER,
        "password": SMTP_PASSWORD,
        "from_address": FROM,
        "timeout_seconds": 5,
        **overrides,
    }


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def give_emails(runtime: Runtime, emails: dict[str, str | None]) -> None:
    with runtime.sessions() as session:
        for code, email in emails.items():
            b.unit(session, code).email = email
        session.commit()


def tk01_reminders(runtime: Runtime) -> dict[tuple[str, str, str], Reminder]:
    """TK01's reminders by (unit code, period, kind)."""
    with runtime.sessions() as session:
        form_id = b.form_by_code(session, "TK01").id
        rows = session.scalars(select(Reminder).where(Reminder.form_id == form_id)).all()
        return {(b.unit_code(session, r.unit_id), r.period_code, r.kind): r for r in rows}


def emailed(runtime: Runtime) -> set[tuple[str, str, str]]:
    return {key for key, r in tk01_reminders(runtime).items() if r.emailed_at is not None}


def tk01(server: SmtpServer) -> list[Received]:
    """The messages about TK01 (shipped forms have reminders too, but no unit of theirs in these
    tests has an address except the ones given here)."""
    return [m for m in server.messages if "Biểu TK01" in str(m.parsed()["Subject"])]


@pytest.fixture
def with_mail(database_url: str, make_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """A runtime on the test's database with the given ``mail`` settings."""
    return lambda mail: make_runtime(database_url, mail=mail)


def test_one_email_per_reminder_once(
    runtime: Runtime, smtp: SmtpServer, with_mail: Callable[..., Runtime]
) -> None:
    units = setup_form(runtime)
    # A and B have addresses (B two of them); C (Lộc Thạnh) has none.
    give_emails(runtime, {units["A"]: MAIL_A, units["B"]: f"{MAIL_B}; ke-toan@dongnai.gov.vn"})
    mailing = with_mail(mail_settings(smtp.port))

    result = remind(mailing, NOW)

    assert smtp.connections == 1  # one connection for the whole run
    assert "reminders e-mailed" in result and "failed" not in result
    by_recipient = {tuple(m.rcpt_to): m for m in tk01(smtp)}
    assert set(by_recipient) == {(MAIL_A,), (MAIL_B, "ke-toan@dongnai.gov.vn")}
    assert all(m.mail_from == "ioc@dongnai.gov.vn" for m in smtp.messages)

    near = by_recipient[(MAIL_B, "ke-toan@dongnai.gov.vn")].parsed()
    assert str(near["Subject"]) == "[DieuHanh] Nhắc hạn báo cáo: Biểu TK01 kỳ Tháng 01/2026"
    assert parseaddr(str(near["From"])) == ("IOC Đồng Nai", "ioc@dongnai.gov.vn")
    assert near["Auto-Submitted"] == "auto-generated"
    assert near.get_content_type() == "text/plain" and near.get_content_charset() == "utf-8"
    body = near.get_content()
    assert "Biểu TK01, Tháng 01/2026: hạn nộp đến hết ngày 02/02/2026." in body
    assert "Hạn nộp: đến hết ngày 02/02/2026" in body
    assert "Kỳ báo cáo: Tháng 01/2026" in body and "Nhập số liệu" in body
    assert "http" not in body  # no public base URL is configured: no link

    late = by_recipient[(MAIL_A,)].parsed()
    assert str(late["Subject"]) == "[DieuHanh] Quá hạn báo cáo: Biểu TK01 kỳ Tháng 12/2025"
    assert "đã quá hạn nộp (hạn đến hết ngày 02/01/2026)" in late.get_content()

    # Every e-mailed reminder is one message; C's stay in-app only.
    assert emailed(runtime) == {
        (units["B"], "202601", "deadline_near"),
        (units["A"], "202512", "overdue"),
    }
    reminders = tk01_reminders(runtime)
    assert reminders[(units["C"], "202601", "deadline_near")].emailed_at is None
    assert reminders[(units["C"], "202512", "overdue")].emailed_at is None
    with runtime.sessions() as session:
        total = session.scalars(select(Reminder).where(Reminder.emailed_at.is_not(None))).all()
    assert len(total) == len(smtp.messages)

    # A second run has nothing to send and does not even connect.
    count = len(smtp.messages)
    assert remind(mailing, NOW).endswith("; 0 reminders e-mailed")
    assert len(smtp.messages) == count and smtp.connections == 1
    # The scheduler's job is the same run, at the current time.
    (job,) = jobs(mailing)
    assert "reminders e-mailed" in str(job.run())


def test_without_mail_settings_nothing_is_sent(runtime: Runtime, smtp: SmtpServer) -> None:
    units = setup_form(runtime)
    give_emails(runtime, {units["A"]: MAIL_A, units["B"]: MAIL_B})
    assert "e-mailed" not in remind(runtime, NOW)
    assert smtp.connections == 0 and not emailed(runtime)
    assert len(tk01_reminders(runtime)) == 4


def test_wrong_password_keeps_reminders_and_retries(
    runtime: Runtime,
    smtp: SmtpServer,
    with_mail: Callable[..., Runtime],
    caplog: pytest.LogCaptureFixture,
) -> None:
    units = setup_form(runtime)
    give_emails(runtime, {units["A"]: MAIL_A, units["B"]: MAIL_B})
    smtp.echo_credentials = True  # the reason is logged, the password never is
    wrong = "not-the-smtp-password"
    with caplog.at_level(logging.INFO, logger="dieuhanh"):
        result = remind(with_mail(mail_settings(smtp.port, password=wrong)), NOW)
    assert smtp.rejected_logins >= 1 and not smtp.messages
    assert "e-mail stopped" in result and "535" in result
    assert "refused the login of 'ioc-dieuhanh'" in caplog.text and "535" in caplog.text
    assert wrong not in caplog.text and wrong not in result and "***" in caplog.text
    # The in-app reminders are all there, none marked e-mailed.
    assert len(tk01_reminders(runtime)) == 4 and not emailed(runtime)

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="dieuhanh"):
        remind(with_mail(mail_settings(smtp.port)), NOW)
    assert {m.rcpt_to[0] for m in tk01(smtp)} == {MAIL_A, MAIL_B}
    assert len(emailed(runtime)) == 2
    assert SMTP_PASSWORD not in caplog.text


def test_refused_connection_keeps_reminders_and_retries(
    runtime: Runtime,
    smtp: SmtpServer,
    with_mail: Callable[..., Runtime],
    caplog: pytest.LogCaptureFixture,
) -> None:
    units = setup_form(runtime)
    give_emails(runtime, {units["B"]: MAIL_B})
    port = closed_port()
    with caplog.at_level(logging.ERROR, logger="dieuhanh"):
        remind(with_mail(mail_settings(port)), NOW)
    assert f"cannot connect to 127.0.0.1:{port}" in caplog.text
    assert "refused" in caplog.text.lower()
    assert SMTP_PASSWORD not in caplog.text
    assert len(tk01_reminders(runtime)) == 4 and not emailed(runtime)

    remind(with_mail(mail_settings(smtp.port)), NOW)
    assert [m.rcpt_to for m in tk01(smtp)] == [[MAIL_B]]
    assert emailed(runtime) == {(units["B"], "202601", "deadline_near")}


def test_refused_and_malformed_addresses(
    runtime: Runtime,
    smtp: SmtpServer,
    with_mail: Callable[..., Runtime],
    caplog: pytest.LogCaptureFixture,
) -> None:
    units = setup_form(runtime)
    gone = "da-giai-the@dongnai.gov.vn"
    smtp.refuse.add(gone)
    # A's address is refused by the server, C's is not an address at all, B's works.
    give_emails(runtime, {units["A"]: gone, units["B"]: MAIL_B, units["C"]: "ubnd xã lộc thạnh"})
    mailing = with_mail(mail_settings(smtp.port))
    with caplog.at_level(logging.ERROR, logger="dieuhanh"):
        result = remind(mailing, NOW)
    # (The shipped commune form has reminders for A and C too, and fails alike.)
    assert "failed" in result
    assert (
        f"reminder e-mail to {gone} (unit {units['A']}, form TK01, period 202512) not sent: "
        f"recipient refused: {gone}: 550 5.1.1 <{gone}>: mailbox unavailable"
    ) in caplog.text
    assert (
        f"(unit {units['C']}, form TK01, period 202601) not sent: "
        "'ubnd xã lộc thạnh' is not a valid e-mail address"
    ) in caplog.text
    # B's mail went through on the same connection; the others wait for the next run.
    assert [m.rcpt_to for m in tk01(smtp)] == [[MAIL_B]] and smtp.connections == 1
    assert emailed(runtime) == {(units["B"], "202601", "deadline_near")}

    # The unit fixes its address, the server accepts the other one again: the next run sends both
    # pending reminders of C and A's, and nothing twice.
    smtp.refuse.clear()
    give_emails(runtime, {units["C"]: "ubnd.locthanh@dongnai.gov.vn"})
    remind(mailing, NOW)
    fixed = "ubnd.locthanh@dongnai.gov.vn"
    assert sorted(m.rcpt_to[0] for m in tk01(smtp)) == sorted([gone, MAIL_B, fixed, fixed])
    assert len(emailed(runtime)) == 4


def test_connection_lost_mid_run(
    runtime: Runtime,
    smtp: SmtpServer,
    with_mail: Callable[..., Runtime],
    caplog: pytest.LogCaptureFixture,
) -> None:
    units = setup_form(runtime)
    give_emails(runtime, {units["B"]: MAIL_B, units["C"]: "c@dongnai.gov.vn"})
    smtp.close_after = 1
    mailing = with_mail(mail_settings(smtp.port))
    with caplog.at_level(logging.ERROR, logger="dieuhanh"):
        result = remind(mailing, NOW)
    assert "the server closed the connection: 421 4.3.2" in caplog.text
    assert "1 of " in caplog.text and "retried on the next run" in caplog.text
    assert "1 reminders e-mailed" in result and "e-mail stopped" in result
    # The one accepted is marked; the one being sent when the server hung up is not.
    with runtime.sessions() as session:
        marked = session.scalars(select(Reminder).where(Reminder.emailed_at.is_not(None))).all()
    assert len(marked) == len(smtp.messages) == 1

    smtp.close_after = None
    remind(mailing, NOW)
    assert len(emailed(runtime)) == 3  # B's near, C's near and overdue
    with runtime.sessions() as session:
        marked = session.scalars(select(Reminder).where(Reminder.emailed_at.is_not(None))).all()
    assert len(marked) == len(smtp.messages)


def test_starttls_required_but_not_offered(
    runtime: Runtime,
    smtp: SmtpServer,
    with_mail: Callable[..., Runtime],
    caplog: pytest.LogCaptureFixture,
) -> None:
    units = setup_form(runtime)
    give_emails(runtime, {units["B"]: MAIL_B})
    with caplog.at_level(logging.ERROR, logger="dieuhanh"):
        remind(with_mail(mail_settings(smtp.port, starttls=True)), NOW)
    assert "does not offer STARTTLS; nothing was sent in plain text" in caplog.text
    assert smtp.connections == 1 and smtp.rejected_logins == 0 and not smtp.messages
    assert not emailed(runtime)


def test_stale_and_completed_reminders_are_not_emailed(
    runtime: Runtime, smtp: SmtpServer, with_mail: Callable[..., Runtime]
) -> None:
    units = setup_form(runtime)
    give_emails(runtime, {units["A"]: MAIL_A, units["B"]: MAIL_B, units["C"]: "c@dongnai.gov.vn"})
    remind(runtime, NOW)  # in-app only: mail is not configured yet
    with runtime.sessions() as session:  # C completes January after its reminder
        b.submit(
            session,
            b.form_by_code(session, "TK01"),
            b.unit(session, units["C"]),
            "202601",
            on_time=True,
        )
        session.commit()
    # Mail is turned on on 05/02/2026: B's January deadline has passed (its near-deadline notice
    # is stale; January is now the overdue period and gets its own reminder), and December is no
    # longer the most recent overdue period.
    later = NOW.replace(day=5)
    remind(with_mail(mail_settings(smtp.port)), later)
    sent = {(m.rcpt_to[0], str(m.parsed()["Subject"])) for m in tk01(smtp)}
    assert sent == {(MAIL_B, "[DieuHanh] Quá hạn báo cáo: Biểu TK01 kỳ Tháng 01/2026")}
    assert emailed(runtime) == {(units["B"], "202601", "overdue")}


def test_mail_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"mail\.from_address: .*required when mail\.smtp_host"):
        load_settings(mail={"smtp_host": "smtp.dongnai.gov.vn"})
    with pytest.raises(ConfigError, match=r"mail\.password: .*required when mail\.username"):
        load_settings(mail={"smtp_host": "smtp.x.vn", "from_address": FROM, "username": "u"})
    with pytest.raises(ConfigError, match=r"mail\.from_address: .*is not an address"):
        load_settings(mail={"smtp_host": "smtp.x.vn", "from_address": "IOC Đồng Nai"})
    settings = load_settings(mail=mail_settings(25, smtp_host=""))
    assert settings.mail.smtp_host is None  # empty = no e-mail
    configured = load_settings(mail=mail_settings(587))
    assert (
        SMTP_PASSWORD not in repr(configured) and SMTP_PASSWORD not in configured.model_dump_json()
    )
