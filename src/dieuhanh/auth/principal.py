"""Who sent a request: a bearer token, else a session cookie, else nobody.

Plugged into the kernel through the auth manifest's ``resolve_principal``; the kernel's
dependencies (``CurrentPrincipal``, ``PagePrincipal``) call it and never import this module.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from dieuhanh.auth.credentials import credential_of, resolve_session, resolve_token
from dieuhanh.auth.models import WebSession
from dieuhanh.auth.service import principal_for
from dieuhanh.core.access import Principal
from dieuhanh.core.errors import Forbidden, Unauthorized
from dieuhanh.core.http.deps import CSRF_HEADER

SESSION_COOKIE = "dieuhanh_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def resolve_principal(request: Request, db: Session, csrf_from_header: bool) -> Principal | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(
                "The Authorization header must be 'Bearer <token>'.", code="invalid_authorization"
            )
        record = resolve_token(db, token.strip())
        principal = principal_for(db, record.user, via="api", credential=credential_of(record))
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        web_session = resolve_session(db, cookie) if cookie else None
        if web_session is None:
            return None
        if (
            csrf_from_header
            and request.method not in SAFE_METHODS
            and request.headers.get(CSRF_HEADER) != web_session.csrf_token
        ):
            raise Forbidden(
                f"A change made with a session cookie needs the {CSRF_HEADER} header of that "
                "session (the web UI sends it).",
                code="csrf_failed",
            )
        principal = principal_for(
            db,
            web_session.user,
            via="web",
            csrf_token=web_session.csrf_token,
            credential=credential_of(web_session),
        )
    return principal


def current_web_session(request: Request, db: Session) -> WebSession | None:
    """The session record of a request made with a session cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if request.headers.get("authorization") or not cookie:
        return None
    return resolve_session(db, cookie)
