"""Kinds of unit and their labels."""

from __future__ import annotations

from enum import StrEnum


class UnitType(StrEnum):
    PROVINCE = "province"  # tỉnh
    MUNICIPALITY = "municipality"  # thành phố trực thuộc trung ương
    COMMUNE = "commune"  # xã
    WARD = "ward"  # phường
    SPECIAL_ZONE = "special_zone"  # đặc khu
    DEPARTMENT = "department"  # sở, ban, ngành

    @property
    def is_province_level(self) -> bool:
        return self in (UnitType.PROVINCE, UnitType.MUNICIPALITY)

    @property
    def is_commune_level(self) -> bool:
        return self in COMMUNE_LEVEL


COMMUNE_LEVEL = frozenset({UnitType.COMMUNE, UnitType.WARD, UnitType.SPECIAL_ZONE})
ADMINISTRATIVE = frozenset({UnitType.PROVINCE, UnitType.MUNICIPALITY, *COMMUNE_LEVEL})

# The name prefix of each administrative type, as written in Vietnamese unit names.
PREFIX_BY_TYPE = {
    UnitType.PROVINCE: "Tỉnh",
    UnitType.MUNICIPALITY: "Thành phố",
    UnitType.COMMUNE: "Xã",
    UnitType.WARD: "Phường",
    UnitType.SPECIAL_ZONE: "Đặc khu",
}

# vietnam-provinces' division_type values.
FROM_DIVISION_TYPE = {
    "tỉnh": UnitType.PROVINCE,
    "thành phố trung ương": UnitType.MUNICIPALITY,
    "xã": UnitType.COMMUNE,
    "phường": UnitType.WARD,
    "đặc khu": UnitType.SPECIAL_ZONE,
}

# Folded name prefixes (see dieuhanh.core.text.fold) that announce a type.
TYPE_BY_FOLDED_PREFIX = {
    "tinh": UnitType.PROVINCE,
    "thanh pho": UnitType.MUNICIPALITY,
    "xa": UnitType.COMMUNE,
    "phuong": UnitType.WARD,
    "dac khu": UnitType.SPECIAL_ZONE,
}
