"""Bearer tokens for programs and session cookies for people.

Both are random strings handed out once; only their SHA-256 is stored, so the database alone
cannot be used to log in. Tokens start with ``dh_`` so secret scanners can recognise them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dieuhanh.auth.models import ApiToken, User, WebSession
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import InvalidInput, NotFound, Unauthorized

TOKEN_PREFIX = "dh_"
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, never stored
    record: ApiToken


def issue_token(
    session: Session, user: User, kind: str, lifetime: timedelta | None, name: str = ""
) -> IssuedToken:
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
        expires_at=utcnow() + lifetime if lifetime else None,
    )
    session.add(record)
    session.flush()
    return IssuedToken(token=token, record=record)


def resolve_token(session: Session, token: str, now: datetime | None = None) -> ApiToken:
    now = now or utcnow()
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if record is None:
        raise Unauthorized("The bearer token is not valid.", code="invalid_token")
    if record.revoked_at is not None:
        raise Unauthorized("The bearer token was revoked.", code="token_revoked")
    if record.expires_at is not None and record.expires_at <= now:
        raise Unauthorized(
            f"The bearer token expired at {record.expires_at.isoformat(timespec='seconds')}; "
            "request a new one at POST /api/v1/auth/token.",
            code="token_expired",
        )
    if not record.user.is_active:
        raise Unauthorized("The account of this token is disabled.", code="account_disabled")
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
        record.last_used_at = now
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
        record.last_seen_at = now
    return record


def close_session(session: Session, cookie: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _digest(cookie)))
