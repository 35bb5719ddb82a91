"""Who is asking, what their role allows, and which units' data they may read and change.

The kernel owns this vocabulary (roles, permissions, scope, the principal) so that every
capability, down to the unit list itself, can check access without importing ``auth``, which
only decides *who* a request comes from (see ``dieuhanh.auth.capability``).

This is the one place the unit-scope rule lives. Every capability asks ``principal.read_scope``
or ``principal.write_scope`` — ``scope.where(Model.unit_id)`` to filter a query, ``authorize`` for
one record — so a commune officer sees and changes only its own commune without each capability
writing that check again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import ColumnElement, false, true

from dieuhanh.core.errors import Forbidden


class Role(StrEnum):
    PROVINCE_ADMIN = "province_admin"
    PROVINCE_OPERATOR = "province_operator"
    DEPARTMENT_OFFICER = "department_officer"
    COMMUNE_OFFICER = "commune_officer"
    VIEWER = "viewer"


class Permission(StrEnum):
    MANAGE_USERS = "manage_users"  # create accounts, change roles
    MANAGE_REFERENCE = "manage_reference"  # import units and boundaries, rename units
    READ_ALL = "read_all"  # see every unit's data
    WRITE_ALL = "write_all"  # change every unit's data
    WRITE_OWN = "write_own"  # change the own unit's data
    VIEW_AUDIT = "view_audit"  # read the audit log (within the read scope)
    CONFIGURE_INDICATORS = "configure_indicators"  # data elements, indicators, forms, rules
    APPROVE_REPORTS = "approve_reports"  # approve units' reports, grant entry exceptions
    MANAGE_SOURCES = "manage_sources"  # data hub: declare sources, run them, resolve mismatches
    MANAGE_ALERTS = "manage_alerts"  # alert rules, emergency broadcasts (CAP)


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PROVINCE_ADMIN: frozenset(Permission),
    # The IOC runs the provincial indicator set day to day: it edits it and approves reports.
    Role.PROVINCE_OPERATOR: frozenset(
        {
            Permission.READ_ALL,
            Permission.WRITE_ALL,
            Permission.WRITE_OWN,
            Permission.VIEW_AUDIT,
            Permission.CONFIGURE_INDICATORS,
            Permission.APPROVE_REPORTS,
            Permission.MANAGE_SOURCES,
            Permission.MANAGE_ALERTS,
        }
    ),
    # Departments oversee a sector across the whole province, but only change their own figures.
    Role.DEPARTMENT_OFFICER: frozenset(
        {Permission.READ_ALL, Permission.WRITE_OWN, Permission.VIEW_AUDIT}
    ),
    Role.COMMUNE_OFFICER: frozenset({Permission.WRITE_OWN, Permission.VIEW_AUDIT}),
    Role.VIEWER: frozenset(),
}

ROLE_LABELS = {
    "vi": {
        Role.PROVINCE_ADMIN: "Quản trị tỉnh",
        Role.PROVINCE_OPERATOR: "Cán bộ vận hành IOC",
        Role.DEPARTMENT_OFFICER: "Cán bộ sở, ban, ngành",
        Role.COMMUNE_OFFICER: "Cán bộ xã, phường",
        Role.VIEWER: "Người xem",
    },
    "en": {
        Role.PROVINCE_ADMIN: "Province administrator",
        Role.PROVINCE_OPERATOR: "IOC operator",
        Role.DEPARTMENT_OFFICER: "Department officer",
        Role.COMMUNE_OFFICER: "Commune officer",
        Role.VIEWER: "Viewer",
    },
}


Access = Literal["read", "write"]


@dataclass(frozen=True)
class Scope:
    """A set of unit ids; ``None`` means every unit."""

    unit_ids: frozenset[int] | None

    @classmethod
    def everything(cls) -> Scope:
        return cls(None)

    @classmethod
    def nothing(cls) -> Scope:
        return cls(frozenset())

    @property
    def is_everything(self) -> bool:
        return self.unit_ids is None

    def allows(self, unit_id: int | None) -> bool:
        if self.unit_ids is None:
            return True
        return unit_id is not None and unit_id in self.unit_ids

    def where(self, column: Any) -> ColumnElement[bool]:
        """A SQL condition restricting ``column`` (a unit id column) to this scope."""
        if self.unit_ids is None:
            return true()
        if not self.unit_ids:
            return false()
        condition: ColumnElement[bool] = column.in_(sorted(self.unit_ids))
        return condition


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    full_name: str
    role: Role
    unit_id: int
    unit_code: str
    unit_name: str
    # The units at and below the account's unit; None when that is the whole province.
    own_units: frozenset[int] | None
    via: str  # "web" (session cookie) or "api" (bearer token)
    language: str | None = None
    csrf_token: str | None = field(default=None, repr=False)
    # The session or token this request came with ("session:<id>", "token:<id>"), so that
    # what outlives the request (an open stream) can check it still stands.
    credential: str | None = None

    @classmethod
    def system(cls, name: str, province_code: str) -> Principal:
        """The product itself acting with the province admin's rights (demo data, benches)."""
        return cls(
            user_id=0,
            username=name,
            full_name="",
            role=Role.PROVINCE_ADMIN,
            unit_id=0,
            unit_code=province_code,
            unit_name="",
            own_units=None,
            via="system",
        )

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self.role]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def read_scope(self) -> Scope:
        if self.can(Permission.READ_ALL):
            return Scope.everything()
        return Scope(self.own_units)

    @property
    def write_scope(self) -> Scope:
        if self.can(Permission.WRITE_ALL):
            return Scope.everything()
        if self.can(Permission.WRITE_OWN):
            return Scope(self.own_units)
        return Scope.nothing()

    def scope(self, access: Access) -> Scope:
        return self.read_scope if access == "read" else self.write_scope


def require(principal: Principal, permission: Permission) -> None:
    if not principal.can(permission):
        raise Forbidden(
            f"Your role ({principal.role.value}) does not allow this: it needs the "
            f"'{permission.value}' permission.",
            code="permission_denied",
        )


def authorize(principal: Principal, access: Access, unit_id: int | None, unit_name: str) -> None:
    """Raise Forbidden unless the principal may ``access`` the data of this unit."""
    if principal.scope(access).allows(unit_id):
        return
    verb = "see" if access == "read" else "change"
    raise Forbidden(
        f"Your account ({principal.username}, {principal.unit_name}) may not {verb} data of "
        f"{unit_name}.",
        code="out_of_scope",
    )
