"""Bearer tokens for programs and session cookies for people.

Both are random strings handed out once; only their SHA-256 is stored, so the database alone
cannot be used to log in. Tokens start with ``dh_`` so secret scanners can recognise them.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from dieuhanh.auth.models import ApiToken, User, WebSession
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import InvalidInput, NotFound, Unauthorized

TOKEN_PREFIX = "dh_"
# Writing last_used_at on every request would turn each read into a write (issue #10,
# finding 8): it is written when older than this, so a plain read normally writes nothing.
LAST_USED_RESOLUTION = timedelta(minutes=5)
# How long that write may wait for a busy database before it is skipped (the next read tries
# again): a read must never wait for its own bookkeeping behind an import.
TOUCH_WAIT_MS = 100

log = logging.getLogger(__name__)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, never stored
    record: ApiToken


def issue_token(
    session: Session, user: User, kind: str, lifetime: timedelta, name: str = ""
) -> IssuedToken:
    """Every token expires: access tokens within the hour, named ones within
    ``auth.api_token_max_days`` (a leaked program token is not usable for ever)."""
    if len(name) > 100:
        raise InvalidInput("A token name has at most 100 characters.", code="field_too_long")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        user=user,
        user_id=user.id,
        kind=kind,
        name=name,
        token_hash=_digest(token),
        prefix=token[:10],
        expires_at=utcnow() + lifetime,
    )
    session.add(record)
    session.flush()
    return IssuedToken(token=token, record=record)


def resolve_token(session: Session, token: str, now: datetime | None = None) -> ApiToken:
    now = now or utcnow()
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if record is None:
        raise Unauthorized("The bearer token is not valid.", code="invalid_token")
    if not record.user.is_active:  # said first: it is what the person can act on
        raise Unauthorized("The account of this token is disabled.", code="account_disabled")
    if record.revoked_at is not None:
        raise Unauthorized("The bearer token was revoked.", code="token_revoked")
    if record.expires_at is not None and record.expires_at <= now:
        raise Unauthorized(
            f"The bearer token expired at {record.expires_at.isoformat(timespec='seconds')}; "
            "request a new one at POST /api/v1/auth/token.",
            code="token_expired",
        )
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
        _touch(session, record, "last_used_at", now)
    return record


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    record = session.get(ApiToken, token_id)
    if record is None or record.user_id != user.id:
        raise NotFound(f"No token {token_id} of yours.", code="token_not_found")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
    return record


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.kind == "api")
            .order_by(ApiToken.created_at.desc())
        )
    )


@dataclass(frozen=True)
class OpenedSession:
    cookie: str
    record: WebSession


def open_session(
    session: Session, user: User, lifetime: timedelta, client_ip: str | None, user_agent: str | None
) -> OpenedSession:
    cookie = secrets.token_urlsafe(32)
    record = WebSession(
        token_hash=_digest(cookie),
        user=user,
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(24),
        expires_at=utcnow() + lifetime,
        client_ip=client_ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(record)
    # Expired sessions of anyone are swept here: logins are frequent enough, no job needed.
    session.execute(delete(WebSession).where(WebSession.expires_at < utcnow()))
    session.flush()
    return OpenedSession(cookie=cookie, record=record)


def resolve_session(
    session: Session, cookie: str, now: datetime | None = None
) -> WebSession | None:
    now = now or utcnow()
    record = session.scalar(select(WebSession).where(WebSession.token_hash == _digest(cookie)))
    if record is None or record.expires_at <= now or not record.user.is_active:
        return None
    if now - record.last_seen_at > LAST_USED_RESOLUTION:
        _touch(session, record, "last_seen_at", now)
    return record


def _touch(session: Session, record: ApiToken | WebSession, column: str, now: datetime) -> None:
    """Write a last-used time in a short transaction of its own, outside the request's, which
    gives up after TOUCH_WAIT_MS if the database is busy; the request's session is left clean,
    so a read commits nothing."""
    model = type(record)
    stale = getattr(model, column)
    # Compared again in SQL: another replica may have written it since this one read it.
    statement = (
        update(model)
        .where(model.id == record.id, or_(stale.is_(None), stale < now - LAST_USED_RESOLUTION))
        .values({column: now})
    )
    engine = session.get_bind().engine
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        usual_wait = connection.exec_driver_sql("PRAGMA busy_timeout").scalar() if sqlite else 0
        try:
            if sqlite:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={TOUCH_WAIT_MS}")
            else:
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{TOUCH_WAIT_MS}ms'")
            connection.execute(statement)
            connection.commit()
        except OperationalError as exc:
            connection.rollback()
            log.debug("last-used time not written, the database is busy: %s", exc.orig)
        finally:
            if sqlite:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={int(usual_wait or 0)}")
    # The record in memory shows it, without making the request's session dirty.
    set_committed_value(record, column, now)


def close_session(session: Session, cookie: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _digest(cookie)))


def rotate_session(record: WebSession) -> str:
    """A new id for a session that goes on: the old cookie stops working. (Its CSRF token, which
    cannot log anyone in by itself, stays, so the pages already open keep working.)"""
    cookie = secrets.token_urlsafe(32)
    record.token_hash = _digest(cookie)
    return cookie


def end_credentials(session: Session, user: User, keep: WebSession | None = None) -> None:
    """End every session of ``user`` but ``keep``, and revoke every token still usable.

    Called when the password changes (whoever changes it) or the account is disabled: a
    password that leaked, or a person who left, must not stay logged in anywhere. Tokens are
    revoked rather than deleted, so the list of a person's tokens keeps its history.
    """
    now = utcnow()
    usable = session.scalars(
        select(ApiToken).where(
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        )
    )
    for token in usable:
        token.revoked_at = now
    others = WebSession.user_id == user.id
    if keep is not None:
        others = and_(others, WebSession.id != keep.id)
    session.execute(delete(WebSession).where(others))


def credential_of(record: ApiToken | WebSession) -> str:
    """Names the credential a request came with, for checks after the request (open streams)."""
    return f"token:{record.id}" if isinstance(record, ApiToken) else f"session:{record.id}"


def credential_valid(
    session: Session, user_id: int, credential: str, now: datetime | None = None
) -> bool:
    """Whether the credential named by ``credential_of`` still lets its user in."""
    now = now or utcnow()
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return False
    kind, _, number = credential.partition(":")
    if not number.isdigit():
        return kind == ""  # nothing named: only the account can be checked
    if kind == "token":
        token = session.get(ApiToken, int(number))
        return (
            token is not None
            and token.user_id == user_id
            and token.revoked_at is None
            and (token.expires_at is None or token.expires_at > now)
        )
    web = session.get(WebSession, int(number))
    return kind == "session" and web is not None and web.user_id == user_id and web.expires_at > now
