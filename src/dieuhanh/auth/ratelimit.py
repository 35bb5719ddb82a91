"""Login rate limit: attempts counted per key within a fixed window, atomically.

Each attempt is counted *before* its password is checked, by one ``INSERT … ON CONFLICT DO
UPDATE … RETURNING`` per key (SQLite ≥ 3.35 and PostgreSQL both have it). The row lock of the
UPSERT orders parallel attempts, on one replica or many, so the sixth of sixteen simultaneous
wrong passwords sees 6 and is refused; reading a count and recording the attempt in two steps
let all sixteen through (issue #10, finding 4).

The keys are chosen so that an attacker cannot lock the real user out:

- an account *at one address*: ``login_max_failures`` tries, then that address waits for that
  account; the same person elsewhere is not affected;
- an address, over all accounts: ``login_address_max_failures`` (one address may be a whole
  commune office behind NAT, hence more);
- an account, over all addresses: past ``login_account_slowdown_after`` this only slows a
  distributed attack down, to one try per address per window; it never locks the account.

A success clears the count of its account at its address and gives back the attempt it took
from the other two keys; the rows of ``login_attempts`` stay as the login history.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dieuhanh.auth.models import LoginAttempt, LoginThrottle
from dieuhanh.core.config import AuthSettings
from dieuhanh.core.db.base import UTCDateTime, utcnow
from dieuhanh.core.errors import TooManyRequests


@dataclass(frozen=True)
class Count:
    key: str
    attempts: int
    window_start: datetime


@dataclass(frozen=True)
class Reservation:
    """The attempt counted for one login, to be given back if the password is right."""

    pair: Count
    shared: tuple[Count, ...]  # the address's and the account's counts


def throttle_key(kind: str, *parts: str) -> str:
    # Hashed: user names and addresses are outside input of any length and character.
    digest = hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()
    return f"{kind}:{digest[:48]}"


def reserve(
    session: Session,
    settings: AuthSettings,
    username: str,
    client_ip: str,
    now: datetime | None = None,
) -> Reservation:
    """Count this attempt, commit, and raise TooManyRequests if it is one too many."""
    now = now or utcnow()
    window = timedelta(seconds=settings.login_window_seconds)
    pair = _count(session, throttle_key("pair", username, client_ip), now, window)
    address = _count(session, throttle_key("address", client_ip), now, window)
    over = _first_over(
        (pair, settings.login_max_failures),
        (address, settings.login_address_max_failures),
    )
    account = None
    if over is None:
        account = _count(session, throttle_key("account", username), now, window)
        if account.attempts > settings.login_account_slowdown_after and pair.attempts > 1:
            over = pair
    session.commit()  # the count must stand whatever happens to this request
    if over is not None:
        _refuse(over, now, window)
    return Reservation(pair, tuple(c for c in (address, account) if c is not None))


def release(session: Session, reservation: Reservation, settings: AuthSettings) -> None:
    """After a right password: the account's failures at this address are forgiven, and the
    attempt taken from the shared counts is given back (a success is not a failure), without
    resetting them (an attacker holding one account must not clear an address's count)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == reservation.pair.key))
    for counted in reservation.shared:
        session.execute(
            update(LoginThrottle)
            .where(
                LoginThrottle.key == counted.key,
                LoginThrottle.window_start == counted.window_start,
                LoginThrottle.attempts > 0,
            )
            .values(attempts=LoginThrottle.attempts - 1)
        )
    # Expired counts of anyone are swept here: logins are frequent enough, no job needed.
    horizon = utcnow() - timedelta(seconds=settings.login_window_seconds)
    session.execute(delete(LoginThrottle).where(LoginThrottle.window_start < horizon))


def _count(session: Session, key: str, now: datetime, window: timedelta) -> Count:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    expired = LoginThrottle.window_start <= now - window
    statement = (
        insert(LoginThrottle)
        .values(key=key, window_start=now, attempts=1)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "attempts": case((expired, 1), else_=LoginThrottle.attempts + 1),
                "window_start": case(
                    (expired, literal(now, UTCDateTime())), else_=LoginThrottle.window_start
                ),
            },
        )
        .returning(LoginThrottle.attempts, LoginThrottle.window_start)
    )
    attempts, window_start = session.execute(statement).one()
    return Count(key, int(attempts), window_start)


def _first_over(*limits: tuple[Count, int]) -> Count | None:
    return next((count for count, limit in limits if count.attempts > limit), None)


def _refuse(count: Count, now: datetime, window: timedelta) -> None:
    retry_after = max(int((count.window_start + window - now).total_seconds()) + 1, 1)
    minutes = int(window.total_seconds()) // 60 or 1
    raise TooManyRequests(
        f"Too many failed logins in the last {minutes} minutes; "
        f"try again in {retry_after} seconds.",
        retry_after=retry_after,
    )


def record(session: Session, username: str, client_ip: str, success: bool, channel: str) -> None:
    session.add(
        LoginAttempt(username=username, client_ip=client_ip, success=success, channel=channel)
    )
