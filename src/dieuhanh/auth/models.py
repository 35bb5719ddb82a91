"""Accounts, their tokens and browser sessions, and the record of login attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dieuhanh.core.db.base import Base, UTCDateTime, utcnow
from dieuhanh.units.models import Unit


class User(Base):
    __tablename__ = "users"
    __audited__ = True
    # The hash is a secret: the audit log records that it changed, never its value.
    __audit_redact__ = frozenset({"password_hash"})
    __audit_ignore__ = frozenset({"last_login_at"})  # logins are in login_attempts

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship(lazy="joined")

    @property
    def audit_unit_id(self) -> int:
        return self.unit_id

    @property
    def audit_label(self) -> str:
        return self.username


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is stored: a leaked database leaks no usable token.

    ``kind`` is "access" for tokens issued by ``POST /api/v1/auth/token`` (short-lived, one per
    login) and "api" for named long-lived tokens a person creates for a program.
    """

    __tablename__ = "api_tokens"
    __audited__ = True
    __audit_redact__ = frozenset({"token_hash"})
    __audit_ignore__ = frozenset({"last_used_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")

    def audit_enabled(self) -> bool:
        # Access tokens are logins, recorded in login_attempts; named API tokens are changes.
        return self.kind == "api"

    @property
    def audit_unit_id(self) -> int:
        return self.user.unit_id

    @property
    def audit_label(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class WebSession(Base):
    """A browser session; the cookie holds a random id whose SHA-256 is stored here."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship(lazy="joined")


class LoginAttempt(Base):
    """Every login attempt; failures within a window drive the rate limit."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(10))  # "web" or "api"


Index("ix_login_attempts_username_at", LoginAttempt.username, LoginAttempt.at)
Index("ix_login_attempts_client_ip_at", LoginAttempt.client_ip, LoginAttempt.at)


class LoginThrottle(Base):
    """A counter of login attempts for one key (an account at an address, an address, an account)
    within a fixed window. One row per key, updated by an atomic UPSERT … RETURNING, so parallel
    requests on any replica each see their own count (``ratelimit.reserve``)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer)
