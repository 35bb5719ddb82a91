"""Roles, what each may do, and to which kind of unit an account of that role is bound."""

from __future__ import annotations

from enum import StrEnum

from dieuhanh.units.types import COMMUNE_LEVEL, UnitType


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
        }
    ),
    # Departments oversee a sector across the whole province, but only change their own figures.
    Role.DEPARTMENT_OFFICER: frozenset(
        {Permission.READ_ALL, Permission.WRITE_OWN, Permission.VIEW_AUDIT}
    ),
    Role.COMMUNE_OFFICER: frozenset({Permission.WRITE_OWN, Permission.VIEW_AUDIT}),
    Role.VIEWER: frozenset(),
}

# The unit types an account of each role may be bound to.
ROLE_UNIT_TYPES: dict[Role, frozenset[UnitType]] = {
    Role.PROVINCE_ADMIN: frozenset({UnitType.PROVINCE, UnitType.MUNICIPALITY}),
    Role.PROVINCE_OPERATOR: frozenset({UnitType.PROVINCE, UnitType.MUNICIPALITY}),
    Role.DEPARTMENT_OFFICER: frozenset({UnitType.DEPARTMENT}),
    Role.COMMUNE_OFFICER: COMMUNE_LEVEL,
    Role.VIEWER: frozenset(UnitType),
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
