"""Outgoing e-mail over SMTP (the ``mail`` settings): one connection, many messages.

Shared by every capability that e-mails someone (today: report reminders). :func:`connect`
opens the connection — STARTTLS with a verified certificate when ``mail.starttls`` is on (a
server that does not offer it is an error, never a plain-text fallback), then a login when
``mail.username`` is set — and yields a :class:`Connection` whose :meth:`Connection.send`
sends one message. Every failure becomes a :class:`MailError` whose text says what went wrong
in words an operator can act on and never contains the password.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import Any, cast

from dieuhanh.core.config import EMAIL_ADDRESS, MailSettings


class MailError(Exception):
    """A message or a connection that failed. ``fatal``: the connection is unusable (nothing
    more can be sent on it); otherwise only this message failed."""

    def __init__(self, reason: str, *, fatal: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fatal = fatal


def recipients(field: str | None) -> list[str]:
    """The addresses in a unit's e-mail field ("a@x.vn", or several separated by , or ;).

    Raises MailError (not fatal) naming the first entry that is not one plain address.
    """
    entries = [e.strip() for e in re.split(r"[,;]", field or "") if e.strip()]
    for entry in entries:
        if not EMAIL_ADDRESS.fullmatch(entry):
            raise MailError(f"{entry!r} is not a valid e-mail address", fatal=False)
    return entries


def new_message(
    settings: MailSettings, to: list[str], subject: str, body: str, html: str | None = None
) -> Message:
    """A plain-text UTF-8 message from the configured sender, marked as automatic; with
    ``html``, the same as multipart/alternative (text first: readers that show HTML take the
    last part they can, the others the text).

    Headers are encoded with :class:`email.header.Header`, not the ``EmailMessage`` policy API:
    on Python 3.11 the latter drops the space between two encoded words when it folds a long
    non-ASCII header ("Biểu TK01 kỳ" arrived as "Biểu TK01kỳ").
    """
    message: Message = MIMEText(body, "plain", "utf-8")
    if html is not None:
        message = MIMEMultipart("alternative")
        message.attach(MIMEText(body, "plain", "utf-8"))
        message.attach(MIMEText(html, "html", "utf-8"))
    message["From"] = formataddr(parseaddr(settings.from_address), "utf-8")
    message["To"] = ", ".join(to)
    # The stubs type header values as str; a compat32 Message takes a Header (and folds it right).
    message["Subject"] = cast(Any, Header(subject, "utf-8"))
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(settings.from_address)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid("dieuhanh", domain=domain)
    # RFC 3834: out-of-office responders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    return message


class Connection:
    def __init__(self, smtp: smtplib.SMTP, settings: MailSettings) -> None:
        self._smtp = smtp
        self._settings = settings
        self.sent = 0

    def send(self, message: Message) -> None:
        """Send one message; MailError if the server refused it (or the connection broke)."""
        try:
            refused = self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError(
                _redact("recipient refused: " + _refusals(exc.recipients), self._settings),
                fatal=False,
            ) from None
        except smtplib.SMTPSenderRefused as exc:
            # 421: the server is closing the connection; otherwise the same sender would be
            # refused for every message. Either way, stop here.
            what = (
                "the server closed the connection"
                if exc.smtp_code == 421
                else f"sender {exc.sender!r} refused"
            )
            raise MailError(
                _redact(f"{what}: {_response(exc.smtp_code, exc.smtp_error)}", self._settings),
                fatal=True,
            ) from None
        except smtplib.SMTPServerDisconnected as exc:
            raise MailError(
                _redact(f"the server closed the connection: {exc}", self._settings), fatal=True
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise MailError(
                _redact(
                    "message refused: " + _response(exc.smtp_code, exc.smtp_error),
                    self._settings,
                ),
                fatal=exc.smtp_code == 421,  # 421: the server is closing the connection
            ) from None
        except (smtplib.SMTPException, OSError, UnicodeError) as exc:
            raise MailError(_redact(_describe(exc), self._settings), fatal=True) from None
        if refused:
            raise MailError(
                _redact("recipient refused: " + _refusals(refused), self._settings), fatal=False
            )
        self.sent += 1


@contextmanager
def connect(settings: MailSettings) -> Iterator[Connection]:
    """A connection to ``mail.smtp_host``, ready to send (MailError, fatal, if it cannot be)."""
    if not settings.smtp_host:
        raise MailError("e-mail is not configured (mail.smtp_host is empty)", fatal=True)
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        smtp = smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.timeout_seconds
        )
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(
            _redact(f"cannot connect to {where}: {_describe(exc)}", settings), fatal=True
        ) from None
    try:
        _open(smtp, settings, where)
        yield Connection(smtp, settings)
    finally:
        with suppress(smtplib.SMTPException, OSError):
            smtp.quit()
        smtp.close()


def _open(smtp: smtplib.SMTP, settings: MailSettings, where: str) -> None:
    try:
        smtp.ehlo_or_helo_if_needed()
        if settings.starttls:
            if not smtp.has_extn("starttls"):
                raise MailError(
                    f"{where} does not offer STARTTLS; nothing was sent in plain text (set "
                    "mail.starttls = false only for a relay on a trusted network)",
                    fatal=True,
                )
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.username:
            password = settings.password.get_secret_value() if settings.password else ""
            try:
                smtp.login(settings.username, password)
            except smtplib.SMTPAuthenticationError as exc:
                raise MailError(
                    _redact(
                        f"{where} refused the login of {settings.username!r} (check "
                        f"mail.username and mail.password): "
                        f"{_response(exc.smtp_code, exc.smtp_error)}",
                        settings,
                    ),
                    fatal=True,
                ) from None
            except smtplib.SMTPNotSupportedError:
                raise MailError(
                    f"{where} does not offer a login (SMTP AUTH) here; leave mail.username "
                    "empty for a relay, or turn on mail.starttls if it offers AUTH only over TLS",
                    fatal=True,
                ) from None
            except UnicodeEncodeError:
                raise MailError(
                    f"cannot log in to {where}: SMTP login sends the user name and password as "
                    "ASCII, and one of them has other characters",
                    fatal=True,
                ) from None
    except MailError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(
            _redact(f"cannot open a session with {where}: {_describe(exc)}", settings),
            fatal=True,
        ) from None


def _response(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}"


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{to}: {_response(code, text)}" for to, (code, text) in refused.items())


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return _response(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, TimeoutError):
        return "no answer in time (mail.timeout_seconds)"
    return str(exc) or type(exc).__name__


def _redact(text: str, settings: MailSettings) -> str:
    """Whatever a server or a library echoes, the password never reaches a log."""
    if settings.password is not None:
        secret = settings.password.get_secret_value()
        if secret:
            text = text.replace(secret, "***")
    return text
