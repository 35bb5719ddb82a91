"""Login rate limit: failed attempts per user name and per client address within a window.

Attempts are rows in the database rather than counters in memory, so every replica of
``dieuhanh serve`` sees the same count and the record doubles as the login history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dieuhanh.auth.models import LoginAttempt
from dieuhanh.core.config import AuthSettings
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import TooManyRequests

# A single address may be a whole commune office behind one NAT: allow it more failures.
PER_ADDRESS_FACTOR = 4


def check_allowed(
    session: Session,
    settings: AuthSettings,
    username: str,
    client_ip: str,
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    window_start = now - timedelta(seconds=settings.login_window_seconds)
    checks = (
        # A successful login clears its user name's failures, not its address's: otherwise an
        # attacker holding one account could reset the address counter at will.
        (
            LoginAttempt.username,
            username,
            settings.login_max_failures,
            _last_success_or(session, username, window_start),
        ),
        (
            LoginAttempt.client_ip,
            client_ip,
            settings.login_max_failures * PER_ADDRESS_FACTOR,
            window_start,
        ),
    )
    for column, value, limit, since in checks:
        count, oldest = session.execute(
            select(func.count(), func.min(LoginAttempt.at)).where(
                column == value, LoginAttempt.success.is_(False), LoginAttempt.at > since
            )
        ).one()
        if count >= limit:
            retry_after = settings.login_window_seconds - int((now - oldest).total_seconds())
            raise TooManyRequests(
                f"Too many failed logins ({count}) in the last "
                f"{settings.login_window_seconds // 60 or 1} minutes; try again in "
                f"{max(retry_after, 1)} seconds.",
                retry_after=max(retry_after, 1),
            )


def _last_success_or(session: Session, username: str, window_start: datetime) -> datetime:
    """Failures count from the window start, or from the last success if that is later."""
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, LoginAttempt.success.is_(True)
        )
    )
    if last_success is not None and last_success > window_start:
        return last_success
    return window_start


def record(session: Session, username: str, client_ip: str, success: bool, channel: str) -> None:
    session.add(
        LoginAttempt(username=username, client_ip=client_ip, success=success, channel=channel)
    )
