"""FastAPI dependencies: the request's database session and who is asking."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from dieuhanh.audit.recorder import Actor, set_actor
from dieuhanh.auth.credentials import credential_of, resolve_session, resolve_token
from dieuhanh.auth.models import WebSession
from dieuhanh.auth.scope import Principal
from dieuhanh.auth.service import principal_for
from dieuhanh.errors import Forbidden, Unauthorized
from dieuhanh.runtime import Runtime

SESSION_COOKIE = "dieuhanh_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def get_db(request: Request) -> Iterator[Session]:
    session = get_runtime(request).sessions()
    set_actor(
        session,
        Actor(
            name="anonymous",
            via="api",
            client_ip=client_ip(request),
            request_id=getattr(request.state, "request_id", None),
        ),
    )
    try:
        yield session
    finally:
        session.close()


Db = Annotated[Session, Depends(get_db)]


def resolve_principal(request: Request, db: Session, *, csrf_from_header: bool) -> Principal | None:
    """Who sent this request: a bearer token, else a session cookie, else nobody."""
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
    set_actor(
        db,
        Actor(
            name=principal.username,
            via=principal.via,
            user_id=principal.user_id,
            client_ip=client_ip(request),
            request_id=getattr(request.state, "request_id", None),
        ),
    )
    return principal


def current_web_session(request: Request, db: Session) -> WebSession | None:
    """The session record of a request made with a session cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if request.headers.get("authorization") or not cookie:
        return None
    return resolve_session(db, cookie)


def optional_principal(request: Request, db: Db) -> Principal | None:
    return resolve_principal(request, db, csrf_from_header=True)


def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthorized(
            "Log in first, or send 'Authorization: Bearer <token>' (POST /api/v1/auth/token).",
            code="not_authenticated",
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
