"""Accounts: creating and changing users, checking passwords, turning a user into a Principal."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from dieuhanh.auth import credentials, ratelimit
from dieuhanh.auth.models import User, WebSession
from dieuhanh.auth.roles import ROLE_UNIT_TYPES
from dieuhanh.core.access import Principal, Role
from dieuhanh.core.config import AuthSettings
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import Conflict, InvalidInput, NotFound, Unauthorized
from dieuhanh.core.passwords import Passwords
from dieuhanh.units.models import Unit
from dieuhanh.units.service import get_unit, subtree_ids
from dieuhanh.units.types import UnitType

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


@dataclass(frozen=True)
class UserFields:
    """What may be set on an account; None leaves a field as it is."""

    full_name: str | None = None
    email: str | None = None
    role: str | None = None
    unit_code: str | None = None
    is_active: bool | None = None
    language: str | None = None


def normalize_username(username: str) -> str:
    return username.strip().lower()


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalize_username(username)))


def get_user(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"No user named '{username}'.", code="user_not_found")
    return user


def create_user(
    session: Session,
    passwords: Passwords,
    username: str,
    password: str,
    role: str,
    unit_code: str,
    fields: UserFields | None = None,
) -> User:
    username = normalize_username(username)
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput(
            f"'{username[:70]}' is not a valid user name: 2 to 64 lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit.",
            code="invalid_username",
        )
    if find_user(session, username) is not None:
        raise Conflict(f"A user named '{username}' already exists.", code="user_exists")
    unit = get_unit(session, unit_code)
    parsed_role = _parse_role(role)
    _check_binding(parsed_role, unit)
    user = User(
        username=username,
        role=parsed_role.value,
        unit=unit,
        unit_id=unit.id,
        password_hash=passwords.hash(password, username=username),
    )
    _apply_fields(user, fields or UserFields())
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, user: User, fields: UserFields) -> None:
    _keep_an_administrator(session, user, fields)
    if fields.role is not None or fields.unit_code is not None:
        role = _parse_role(fields.role or user.role)
        unit = get_unit(session, fields.unit_code) if fields.unit_code else user.unit
        _check_binding(role, unit)
        user.role = role.value
        user.unit = unit
        user.unit_id = unit.id
    disabled = user.is_active and fields.is_active is False
    _apply_fields(user, fields)
    if disabled:
        credentials.end_credentials(session, user)


def set_password(
    passwords: Passwords, user: User, password: str, *, keep: WebSession | None = None
) -> None:
    """Change the password and end every session and token of the account but ``keep`` (the
    session making the change, which the caller gives a new id): whoever knew the old password
    is logged out everywhere, whichever way the change is made (page, API, command line)."""
    user.password_hash = passwords.hash(password, username=user.username)
    user.password_changed_at = utcnow()
    session = object_session(user)
    if session is not None:
        credentials.end_credentials(session, user, keep=keep)


def authenticate(
    session: Session,
    passwords: Passwords,
    settings: AuthSettings,
    username: str,
    password: str,
    client_ip: str,
    channel: str,
) -> User:
    """Check a login, within the rate limit; every attempt is recorded."""
    username = normalize_username(username)[:64]
    reservation = ratelimit.reserve(session, settings, username, client_ip)
    user = find_user(session, username)
    ok = passwords.verify(user.password_hash if user else None, password)
    if ok and user is not None and not user.is_active:
        ok = False
    ratelimit.record(session, username, client_ip, ok, channel)
    if not ok or user is None:
        session.commit()  # the failure must count even though the request fails
        raise Unauthorized("Wrong user name or password.", code="invalid_credentials")
    ratelimit.release(session, reservation, settings)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hasher.hash(password)
    user.last_login_at = utcnow()
    return user


def principal_for(
    session: Session,
    user: User,
    via: str,
    csrf_token: str | None = None,
    credential: str | None = None,
) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=Role(user.role),
        unit_id=user.unit_id,
        unit_code=user.unit.code,
        unit_name=user.unit.name,
        own_units=subtree_ids(session, user.unit),
        via=via,
        language=user.language,
        csrf_token=csrf_token,
        credential=credential,
    )


def _keep_an_administrator(session: Session, user: User, fields: UserFields) -> None:
    """Refuse to demote or disable the last active province administrator: nobody could undo it
    from the web UI."""
    if user.role != Role.PROVINCE_ADMIN.value or not user.is_active:
        return
    demoted = fields.role is not None and fields.role != Role.PROVINCE_ADMIN.value
    if not demoted and fields.is_active is not False:
        return
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.PROVINCE_ADMIN.value, User.is_active.is_(True), User.id != user.id)
    )
    if not others:
        raise Conflict(
            f"{user.username} is the last active province administrator; make another one first.",
            code="last_administrator",
        )


def _parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(
            f"Unknown role '{role}'; one of {', '.join(r.value for r in Role)}.",
            code="unknown_role",
        ) from None


def _check_binding(role: Role, unit: Unit) -> None:
    allowed = ROLE_UNIT_TYPES[role]
    if UnitType(unit.type) not in allowed:
        raise InvalidInput(
            f"A {role.value} account must belong to a unit of type "
            f"{' or '.join(sorted(t.value for t in allowed))}; {unit.name} is a {unit.type}.",
            code="invalid_unit_for_role",
        )


def _apply_fields(user: User, fields: UserFields) -> None:
    if fields.full_name is not None:
        if len(fields.full_name) > 120:
            raise InvalidInput(
                "full_name is too long: at most 120 characters.", code="field_too_long"
            )
        user.full_name = fields.full_name.strip()
    if fields.email is not None:
        email = fields.email.strip() or None
        if email and (len(email) > 120 or "@" not in email):
            raise InvalidInput(f"'{email[:60]}' is not an e-mail address.", code="invalid_email")
        user.email = email
    if fields.is_active is not None:
        user.is_active = fields.is_active
    if fields.language is not None:
        if fields.language not in ("vi", "en"):
            raise InvalidInput("language must be 'vi' or 'en'.", code="invalid_language")
        user.language = fields.language
