"""To which kind of unit an account of each role is bound (roles themselves: ``core.access``)."""

from __future__ import annotations

from dieuhanh.core.access import Role
from dieuhanh.units.types import COMMUNE_LEVEL, UnitType

# The unit types an account of each role may be bound to.
ROLE_UNIT_TYPES: dict[Role, frozenset[UnitType]] = {
    Role.PROVINCE_ADMIN: frozenset({UnitType.PROVINCE, UnitType.MUNICIPALITY}),
    Role.PROVINCE_OPERATOR: frozenset({UnitType.PROVINCE, UnitType.MUNICIPALITY}),
    Role.DEPARTMENT_OFFICER: frozenset({UnitType.DEPARTMENT}),
    Role.COMMUNE_OFFICER: COMMUNE_LEVEL,
    Role.VIEWER: frozenset(UnitType),
}
