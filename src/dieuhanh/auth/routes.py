"""HTTP API of accounts: tokens, the current user, user management."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from dieuhanh.auth import credentials
from dieuhanh.auth.models import User
from dieuhanh.auth.principal import current_web_session
from dieuhanh.auth.service import (
    UserFields,
    authenticate,
    create_user,
    get_user,
    set_password,
    update_user,
)
from dieuhanh.auth.transport import set_session_cookie
from dieuhanh.core.access import Permission, Role, authorize, require
from dieuhanh.core.errors import Forbidden, InvalidInput, Unauthorized
from dieuhanh.core.http.deps import CurrentPrincipal, Db, client_ip, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.runtime import Runtime

public = api_router("auth", public=True)
router = api_router("auth")
users = api_router("users")

RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenRequest(_Input):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")
    expires_at: datetime


@public.post(
    "/auth/token", response_model=TokenResponse, summary="Exchange a password for a bearer token"
)
def issue_access_token(
    body: TokenRequest, request: Request, db: Db, runtime: RuntimeDep
) -> TokenResponse:
    settings = runtime.settings.auth
    user = authenticate(
        db, runtime.passwords, settings, body.username, body.password, client_ip(request), "api"
    )
    lifetime = timedelta(minutes=settings.access_token_minutes)
    issued = credentials.issue_token(db, user, "access", lifetime)
    db.commit()
    assert issued.record.expires_at is not None
    return TokenResponse(
        access_token=issued.token,
        expires_in=int(lifetime.total_seconds()),
        expires_at=issued.record.expires_at,
    )


@router.delete("/auth/token", status_code=204, summary="Revoke the bearer token of this request")
def revoke_current_token(request: Request, db: Db, principal: CurrentPrincipal) -> Response:
    header = request.headers.get("authorization", "")
    if principal.via != "api" or not header:
        raise InvalidInput(
            "Only a request made with a bearer token can revoke it.", code="no_token"
        )
    record = credentials.resolve_token(db, header.partition(" ")[2].strip())
    credentials.revoke_token(db, record.user, record.id)
    db.commit()
    return Response(status_code=204)


class UserOut(BaseModel):
    username: str
    full_name: str
    email: str | None
    role: str
    unit_code: str
    unit_name: str
    is_active: bool
    language: str | None
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            username=user.username,
            full_name=user.full_name,
            email=user.email,
            role=user.role,
            unit_code=user.unit.code,
            unit_name=user.unit.name,
            is_active=user.is_active,
            language=user.language,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
        )


class MeOut(UserOut):
    permissions: list[str]
    via: str


@router.get("/auth/me", response_model=MeOut, summary="The account making this request")
def me(db: Db, principal: CurrentPrincipal) -> MeOut:
    user = get_user(db, principal.username)
    return MeOut(
        **UserOut.of(user).model_dump(),
        permissions=sorted(p.value for p in principal.permissions),
        via=principal.via,
    )


class ApiTokenIn(_Input):
    name: str = Field(min_length=1, max_length=100)
    expires_in_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="Days until the token expires; default `auth.api_token_days`, at most "
        "`auth.api_token_max_days`",
    )


class ApiTokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class IssuedApiTokenOut(ApiTokenOut):
    token: str = Field(description="Shown once; store it now")


@router.get("/auth/tokens", response_model=list[ApiTokenOut], summary="My named API tokens")
def list_api_tokens(db: Db, principal: CurrentPrincipal) -> list[ApiTokenOut]:
    user = get_user(db, principal.username)
    return [
        ApiTokenOut.model_validate(t, from_attributes=True)
        for t in credentials.list_tokens(db, user)
    ]


@router.post(
    "/auth/tokens",
    response_model=IssuedApiTokenOut,
    status_code=201,
    summary="Create a named token for a program",
)
def create_api_token(
    body: ApiTokenIn, db: Db, principal: CurrentPrincipal, runtime: RuntimeDep
) -> IssuedApiTokenOut:
    user = get_user(db, principal.username)
    settings = runtime.settings.auth
    days = body.expires_in_days or settings.api_token_days
    if days > settings.api_token_max_days:
        raise InvalidInput(
            f"expires_in_days is {days}; a token lives at most {settings.api_token_max_days} "
            "days (auth.api_token_max_days). Create a new one before it expires.",
            code="token_lifetime_too_long",
        )
    issued = credentials.issue_token(db, user, "api", timedelta(days=days), name=body.name)
    db.commit()
    return IssuedApiTokenOut(
        **ApiTokenOut.model_validate(issued.record, from_attributes=True).model_dump(),
        token=issued.token,
    )


@router.delete("/auth/tokens/{token_id}", status_code=204, summary="Revoke one of my tokens")
def revoke_api_token(token_id: int, db: Db, principal: CurrentPrincipal) -> Response:
    credentials.revoke_token(db, get_user(db, principal.username), token_id)
    db.commit()
    return Response(status_code=204)


class UserCreate(_Input):
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    role: Role
    unit_code: str = Field(min_length=1, max_length=32)
    full_name: str = Field(default="", max_length=120)
    email: str | None = Field(default=None, max_length=120)
    language: Literal["vi", "en"] | None = None


class UserPatch(_Input):
    full_name: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=120)
    role: Role | None = None
    unit_code: str | None = Field(default=None, max_length=32)
    is_active: bool | None = None
    language: Literal["vi", "en"] | None = None
    password: str | None = Field(default=None, max_length=1024)
    current_password: str | None = Field(
        default=None, max_length=1024, description="Required to change one's own password"
    )


@users.get("/users", response_model=list[UserOut], summary="Accounts within my unit scope")
def list_users(db: Db, principal: CurrentPrincipal) -> list[UserOut]:
    rows = db.scalars(
        select(User).where(principal.read_scope.where(User.unit_id)).order_by(User.username)
    )
    return [UserOut.of(user) for user in rows]


@users.post("/users", response_model=UserOut, status_code=201, summary="Create an account")
def create_account(
    body: UserCreate, db: Db, principal: CurrentPrincipal, runtime: RuntimeDep
) -> UserOut:
    require(principal, Permission.MANAGE_USERS)
    user = create_user(
        db,
        runtime.passwords,
        body.username,
        body.password,
        body.role.value,
        body.unit_code,
        UserFields(full_name=body.full_name, email=body.email, language=body.language),
    )
    db.commit()
    return UserOut.of(user)


@users.get("/users/{username}", response_model=UserOut, summary="One account")
def read_user(username: str, db: Db, principal: CurrentPrincipal) -> UserOut:
    user = get_user(db, username)
    authorize(principal, "read", user.unit_id, user.unit.name)
    return UserOut.of(user)


@users.patch("/users/{username}", response_model=UserOut, summary="Change an account")
def change_user(
    username: str,
    body: UserPatch,
    request: Request,
    response: Response,
    db: Db,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
) -> UserOut:
    user = get_user(db, username)
    is_self = user.id == principal.user_id
    manages = principal.can(Permission.MANAGE_USERS)
    if not manages:
        admin_only = {"role", "unit_code", "is_active"} & body.model_fields_set
        if not is_self or admin_only:
            raise Forbidden(
                "Only a province administrator can change other accounts, roles, units or "
                "activation.",
                code="permission_denied",
            )
    this_session = current_web_session(request, db) if is_self else None
    if body.password is not None:
        if is_self and not runtime.passwords.verify(
            user.password_hash, body.current_password or ""
        ):
            raise Unauthorized("current_password is wrong.", code="invalid_credentials")
        # Every other session and every token of the account ends; a session changing its own
        # password goes on under a new id.
        set_password(runtime.passwords, user, body.password, keep=this_session)
    update_user(
        db,
        user,
        UserFields(
            full_name=body.full_name,
            email=body.email,
            role=body.role.value if body.role else None,
            unit_code=body.unit_code,
            is_active=body.is_active,
            language=body.language,
        ),
    )
    cookie = None
    if body.password is not None and this_session is not None and user.is_active:
        cookie = credentials.rotate_session(this_session)
    db.commit()
    if cookie:
        set_session_cookie(request, response, cookie)
    return UserOut.of(user)
