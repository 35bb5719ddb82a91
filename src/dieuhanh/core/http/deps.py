"""FastAPI dependencies: the request's database session and who is asking."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from dieuhanh.core.access import Principal
from dieuhanh.core.capability import PrincipalResolver
from dieuhanh.core.db.actor import Actor, set_actor
from dieuhanh.core.errors import Unauthorized
from dieuhanh.core.runtime import Runtime

CSRF_HEADER = "X-CSRF-Token"


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
    """Who sent this request, as the capability that owns accounts decides (``auth``).

    The kernel only knows the principal's shape; the resolver is plugged in by a manifest's
    ``resolve_principal``. Whoever it finds becomes the actor of the session's changes.
    """
    resolver: PrincipalResolver | None = getattr(request.app.state, "principal_resolver", None)
    principal = resolver(request, db, csrf_from_header) if resolver is not None else None
    if principal is not None:
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
