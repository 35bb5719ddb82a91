"""A failed run's error as a person can act on it: no SQL, no parameters, no passwords."""

from __future__ import annotations

import re

from sqlalchemy.exc import SQLAlchemyError, StatementError

from dieuhanh.core.errors import DieuhanhError

MAX_LENGTH = 500
MASK = "****"
# user:password@ inside any URL in free text (driver messages, exception strings).
_PASSWORD_IN_URL = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/\s]*):[^@/\s]*@"
)
# psycopg names a failing connection's password as a keyword: "password=secret".
_PASSWORD_KEYWORD = re.compile(
    r"(?P<key>password\s*=\s*)(?P<quote>['\"]?)[^\s'\"]*(?P=quote)", re.I
)


def describe_error(exc: BaseException) -> str:
    """One line naming what went wrong.

    SQLAlchemy's own text carries the statement and its parameters (values people entered,
    sometimes personal data) and a link to its docs; only the driver's first line says what the
    database refused, so that is what is kept.
    """
    if isinstance(exc, SQLAlchemyError):
        message = f"database error: {_database_message(exc)}"
    elif isinstance(exc, DieuhanhError):
        message = exc.message
    else:
        text = _first_line(str(exc))
        message = f"{type(exc).__name__}: {text}" if text else f"{type(exc).__name__} (no message)"
    return scrub_passwords(message)[:MAX_LENGTH]


def scrub_passwords(text: str) -> str:
    text = _PASSWORD_IN_URL.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _PASSWORD_KEYWORD.sub(lambda m: f"{m['key']}{MASK}", text)


def _database_message(exc: SQLAlchemyError) -> str:
    original = exc.orig if isinstance(exc, StatementError) else None
    if original is not None:
        text = _first_line(str(original))
        return text or type(original).__name__
    # Errors raised by SQLAlchemy itself: the first line is its message, what follows is the
    # statement ("[SQL: …]") and the link to its error page.
    text = _first_line(str(exc).split("[SQL:", 1)[0].split("(Background on this error", 1)[0])
    return text or type(exc).__name__


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""
