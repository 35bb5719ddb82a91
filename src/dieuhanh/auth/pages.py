"""Pages of accounts: login, logout, my account, user management."""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.auth import credentials
from dieuhanh.auth.models import User
from dieuhanh.auth.principal import SESSION_COOKIE, current_web_session
from dieuhanh.auth.service import (
    UserFields,
    authenticate,
    create_user,
    get_user,
    set_password,
)
from dieuhanh.auth.transport import set_session_cookie
from dieuhanh.core.access import Permission, Principal, Role, require
from dieuhanh.core.errors import DieuhanhError
from dieuhanh.core.http.deps import Db, client_ip, get_runtime, resolve_principal
from dieuhanh.core.http.transport import secure_cookies
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.web.shell import NavItem, PagePrincipal, check_form_csrf, render, safe_next
from dieuhanh.units.models import Unit
from dieuhanh.units.service import get_unit

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "dieuhanh_login_csrf"
LOGIN_CSRF_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")
NAV = [NavItem("/users", "nav.users", Permission.MANAGE_USERS, order=80)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, db: Db, next: str | None = None) -> Response:
    if resolve_principal(request, db, csrf_from_header=False) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, next=next)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    db: Db,
    runtime: RuntimeDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
    login_csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    settings = runtime.settings.auth
    if not _login_csrf_matches(request, login_csrf):
        # Another site made the browser send this form: it cannot read our page for the token.
        return _login_form(request, status_code=403, error="csrf_failed", next=next)
    try:
        user = authenticate(
            db, runtime.passwords, settings, username, password, client_ip(request), "web"
        )
    except DieuhanhError as exc:
        return _login_form(
            request,
            status_code=exc.status,
            error=exc.code,
            next=next,
            username=username[:64],
            headers=exc.headers,
        )
    opened = credentials.open_session(
        db,
        user,
        timedelta(hours=settings.session_hours),
        client_ip(request),
        request.headers.get("user-agent"),
    )
    db.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, response, opened.cookie)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _login_form(
    request: Request,
    *,
    status_code: int = 200,
    error: str | None = None,
    next: str | None = None,
    username: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The login page with a CSRF token bound to a pre-session cookie (double submit)."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not LOGIN_CSRF_PATTERN.fullmatch(token):
        token = secrets.token_urlsafe(24)
    response = render(
        request,
        "auth/login.html",
        None,
        status_code=status_code,
        headers=headers,
        next=safe_next(next),
        error=error,
        username=username,
        login_csrf=token,
    )
    # Strict: a cross-site form post does not even carry it. Only /login needs it.
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/login",
    )
    return response


def _login_csrf_matches(request: Request, submitted: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    return bool(LOGIN_CSRF_PATTERN.fullmatch(cookie)) and hmac.compare_digest(
        cookie.encode(), submitted.encode()
    )


@router.post("/logout")
def logout(
    request: Request, db: Db, principal: PagePrincipal, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_form_csrf(principal, csrf_token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        credentials.close_session(db, cookie)
        db.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _account(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    *,
    status: int = 200,
    message: str | None = None,
    error: str | None = None,
    new_token: str | None = None,
) -> Response:
    user = get_user(db, principal.username)
    return render(
        request,
        "auth/account.html",
        principal,
        status_code=status,
        user=user,
        tokens=credentials.list_tokens(db, user),
        message=message,
        error=error,
        new_token=new_token,
    )


@router.get("/account", response_class=HTMLResponse)
def account_page(
    request: Request, db: Db, principal: PagePrincipal, message: str | None = None
) -> Response:
    return _account(request, db, principal, message=message)


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    runtime: RuntimeDep,
    csrf_token: Annotated[str, Form()] = "",
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    check_form_csrf(principal, csrf_token)
    user = get_user(db, principal.username)
    if not runtime.passwords.verify(user.password_hash, current_password):
        return _account(request, db, principal, status=401, error="account.wrong_password")
    this_session = current_web_session(request, db)
    try:
        set_password(runtime.passwords, user, new_password, keep=this_session)
    except DieuhanhError as exc:
        db.rollback()
        return _account(request, db, principal, status=exc.status, error=exc.message)
    # This session goes on, under a new id: whoever had copied the old one is out too.
    cookie = credentials.rotate_session(this_session) if this_session else None
    db.commit()
    response = RedirectResponse("/account?message=password_changed", status_code=303)
    if cookie:
        set_session_cookie(request, response, cookie)
    return response


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    runtime: RuntimeDep,
    csrf_token: Annotated[str, Form()] = "",
    name: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_form_csrf(principal, csrf_token)
    user = get_user(db, principal.username)
    lifetime = timedelta(days=runtime.settings.auth.api_token_days)
    issued = credentials.issue_token(db, user, "api", lifetime, name=name.strip() or "token")
    db.commit()
    return _account(request, db, principal, new_token=issued.token)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    token_id: int, db: Db, principal: PagePrincipal, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_form_csrf(principal, csrf_token)
    credentials.revoke_token(db, get_user(db, principal.username), token_id)
    db.commit()
    return RedirectResponse("/account?message=token_revoked", status_code=303)


@router.get("/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    runtime: RuntimeDep,
    message: str | None = None,
) -> Response:
    require(principal, Permission.MANAGE_USERS)
    users = db.scalars(select(User).order_by(User.username)).all()
    return render(
        request,
        "auth/users.html",
        principal,
        users=users,
        units=_bindable_units(db, runtime),
        roles=list(Role),
        message=message,
        error=None,
    )


@router.post("/users", response_class=HTMLResponse)
def users_create(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    runtime: RuntimeDep,
    csrf_token: Annotated[str, Form()] = "",
    username: Annotated[str, Form(max_length=64)] = "",
    full_name: Annotated[str, Form(max_length=120)] = "",
    role: Annotated[str, Form(max_length=30)] = "",
    unit_code: Annotated[str, Form(max_length=32)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    check_form_csrf(principal, csrf_token)
    require(principal, Permission.MANAGE_USERS)
    try:
        create_user(
            db,
            runtime.passwords,
            username,
            password,
            role,
            unit_code,
            UserFields(full_name=full_name),
        )
        db.commit()
    except DieuhanhError as exc:
        db.rollback()
        users = db.scalars(select(User).order_by(User.username)).all()
        return render(
            request,
            "auth/users.html",
            principal,
            status_code=exc.status,
            users=users,
            units=_bindable_units(db, runtime),
            roles=list(Role),
            message=None,
            error=exc.message,
        )
    return RedirectResponse("/users?message=user_created", status_code=303)


def _bindable_units(db: Db, runtime: Runtime) -> list[Unit]:
    """Units an account can belong to: the operating province and the units under it."""
    province = get_unit(db, runtime.settings.province_code)
    return [
        province,
        *db.scalars(
            select(Unit).where(Unit.parent_id == province.id).order_by(Unit.type, Unit.name_key)
        ),
    ]


def unit_members(db: Session, unit: Unit, principal: Principal) -> dict[str, object]:
    """The accounts of a unit, for its page (``units.unit_page_context``)."""
    if not principal.read_scope.allows(unit.id):
        return {}
    query = select(User).where(User.unit_id == unit.id).order_by(User.username)
    return {"members": db.scalars(query).all()}
