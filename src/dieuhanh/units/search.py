"""Finding units by name the way people type them.

"loc thanh", "Lộc Thạnh" and "xa Loc Thanh" all find Xã Lộc Thạnh: names are compared on their
folded key (no diacritics, no case, no administrative prefix), current and former names alike.
Results are ranked so the unit a person most likely means comes first.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dieuhanh.core.text import fold, like_pattern, strip_prefix
from dieuhanh.units.models import Unit, UnitName
from dieuhanh.units.service import canonical_code
from dieuhanh.units.types import TYPE_BY_FOLDED_PREFIX, UnitType

CANDIDATE_LIMIT = 500


@dataclass(frozen=True)
class Match:
    unit: Unit
    matched_name: str  # the name that matched: the current one or a former one
    score: tuple[int | str | bool, ...]


def search_units(
    session: Session,
    query: str,
    *,
    within: Unit | None = None,
    types: Iterable[UnitType] | None = None,
    prefer_province_id: int | None = None,
    limit: int = 50,
) -> list[Match]:
    parsed = _Query.parse(query)
    if not parsed.folded:
        return []
    pattern = like_pattern(parsed.key)

    former = select(UnitName.unit_id).where(UnitName.name_key.like(pattern, escape="\\"))
    conditions = [Unit.name_key.like(pattern, escape="\\"), Unit.id.in_(former)]
    if query.strip().isalnum():
        conditions.append(Unit.code.in_({canonical_code(query), query.strip()}))
    statement = select(Unit).where(or_(*conditions))
    if within is not None:
        statement = statement.where(or_(Unit.parent_id == within.id, Unit.id == within.id))
    if types is not None:
        statement = statement.where(Unit.type.in_([t.value for t in types]))
    units = list(session.scalars(statement.limit(CANDIDATE_LIMIT)))

    former_names = _former_names(session, [u.id for u in units], pattern)
    matches = [
        _rank(unit, former_names.get(unit.id, []), parsed, prefer_province_id) for unit in units
    ]
    matches.sort(key=lambda match: match.score)
    return matches[:limit]


def _former_names(session: Session, unit_ids: list[int], pattern: str) -> dict[int, list[str]]:
    if not unit_ids:
        return {}
    rows = session.execute(
        select(UnitName.unit_id, UnitName.name).where(
            UnitName.unit_id.in_(unit_ids),
            UnitName.name_key.like(pattern, escape="\\"),
            UnitName.valid_to.is_not(None),
        )
    )
    found: dict[int, list[str]] = {}
    for unit_id, name in rows:
        found.setdefault(unit_id, []).append(name)
    return found


def _rank(
    unit: Unit,
    former: list[str],
    query: _Query,
    prefer_province_id: int | None,
) -> Match:
    # The name that best fits what was typed: "Xã Long Thành" fits the former name of what is
    # now Phường Long Thành better than its current one.
    names = [(unit.name, 0), *((name, 1) for name in former)]
    matched_name, is_former = min(names, key=lambda item: (query.fit(item[0]), item[1]))
    folded = fold(matched_name)
    prefix, matched_key = strip_prefix(folded)
    written = unicodedata.normalize("NFC", matched_name).casefold()
    score = (
        0 if unit.code == query.code else 1,
        query.fit(matched_name),
        # Typed with diacritics: the name spelled exactly so beats a namesake without them.
        0 if query.exact and query.exact in written else 1,
        0
        if query.hinted_type is None or TYPE_BY_FOLDED_PREFIX.get(prefix) == query.hinted_type
        else 1,
        0 if prefer_province_id is None or prefer_province_id in (unit.id, unit.parent_id) else 1,
        is_former,
        len(matched_key),
        unit.name,  # ties in a stable, readable order
    )
    return Match(unit=unit, matched_name=matched_name, score=score)


@dataclass(frozen=True)
class _Query:
    folded: str  # with its prefix, if one was typed
    key: str  # without
    exact: str  # as typed, NFC and case-folded
    hinted_type: UnitType | None
    code: str | None

    @classmethod
    def parse(cls, text: str) -> _Query:
        folded = fold(text)
        prefix, key = strip_prefix(folded)
        return cls(
            folded=folded,
            key=key,
            exact=unicodedata.normalize("NFC", text.strip()).casefold(),
            hinted_type=TYPE_BY_FOLDED_PREFIX.get(prefix),
            code=canonical_code(text) if text.strip().isalnum() else None,
        )

    def fit(self, name: str) -> int:
        """0 typed in full, 1 the name without prefix, 2 its beginning, 3 somewhere inside."""
        folded = fold(name)
        key = strip_prefix(folded)[1]
        if folded == self.folded:
            return 0
        if key == self.key:
            return 1
        return 2 if key.startswith(self.key) else 3
