"""Codes of elements, options and units resolved from dictionaries loaded once per import.

An import of millions of values must not look up the same code millions of times: everything a
row names is read here in three queries, then checked in memory.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.indicators.catalog.models import DataElement, Disaggregation, DisaggregationOption
from dieuhanh.units.models import Unit
from dieuhanh.units.service import canonical_code, commune_code

# DHIS2's name for "no disaggregation", accepted as an option code meaning none.
DEFAULT_OPTION = "default"


@dataclass(frozen=True)
class ElementInfo:
    id: int
    code: str
    name: str
    value_type: str
    zero_is_significant: bool
    disaggregation: str | None  # its code; None: not disaggregated
    options: tuple[str, ...]  # option codes in order; empty when not disaggregated


@dataclass(frozen=True)
class UnitInfo:
    id: int
    code: str
    name: str
    parent_id: int | None


class Catalog:
    def __init__(self, elements: dict[str, ElementInfo], units: dict[str, UnitInfo]) -> None:
        self.elements = elements
        self.units = units
        self.elements_by_id = {info.id: info for info in elements.values()}
        self.units_by_id = {info.id: info for info in units.values()}

    @classmethod
    def load(
        cls,
        session: Session,
        elements: Collection[str] | None = None,
        units: Collection[str] | None = None,
    ) -> Catalog:
        """Everything, or only the elements and units named (a single value saved from the entry
        page needs two rows, not the 3,000 units of the country)."""
        options: dict[int, list[str]] = {}
        for disaggregation_id, code in session.execute(
            select(DisaggregationOption.disaggregation_id, DisaggregationOption.code).order_by(
                DisaggregationOption.sort_order, DisaggregationOption.id
            )
        ):
            options.setdefault(disaggregation_id, []).append(code)
        disaggregations = dict(
            session.execute(select(Disaggregation.id, Disaggregation.code)).all()
        )
        element_query = select(
            DataElement.id,
            DataElement.code,
            DataElement.name,
            DataElement.value_type,
            DataElement.zero_is_significant,
            DataElement.disaggregation_id,
        )
        if elements is not None:
            element_query = element_query.where(DataElement.code.in_([e.strip() for e in elements]))
        unit_query = select(Unit.id, Unit.code, Unit.name, Unit.parent_id)
        if units is not None:
            unit_query = unit_query.where(Unit.code.in_(sorted(_spellings(units))))
        found = {}
        for row in session.execute(element_query):
            dis = row.disaggregation_id
            found[row.code] = ElementInfo(
                id=row.id,
                code=row.code,
                name=row.name,
                value_type=row.value_type,
                zero_is_significant=row.zero_is_significant,
                disaggregation=disaggregations.get(dis) if dis is not None else None,
                options=tuple(options.get(dis, ())) if dis is not None else (),
            )
        by_code = {
            row.code: UnitInfo(id=row.id, code=row.code, name=row.name, parent_id=row.parent_id)
            for row in session.execute(unit_query)
        }
        return cls(found, by_code)

    def element(self, code: str) -> ElementInfo | None:
        return self.elements.get(code.strip())

    def unit(self, code: str) -> UnitInfo | None:
        """By code as stored, or as people write it (commune codes without leading zeros)."""
        text = code.strip()
        found = self.units.get(text)
        if found is not None or not text:
            return found
        found = self.units.get(canonical_code(text))
        if found is None and text.isdigit() and len(text) <= 5:
            found = self.units.get(commune_code(text))
        return found

    def subtree(self, unit_id: int) -> set[int]:
        """The unit and every unit below it."""
        children: dict[int, list[int]] = {}
        for info in self.units.values():
            if info.parent_id is not None:
                children.setdefault(info.parent_id, []).append(info.id)
        found, stack = set(), [unit_id]
        while stack:
            current = stack.pop()
            found.add(current)
            stack.extend(children.get(current, ()))
        return found


def _spellings(codes: Collection[str]) -> set[str]:
    """Every stored form a written unit code may stand for (see :meth:`Catalog.unit`)."""
    found = set()
    for code in codes:
        text = code.strip()
        found |= {text, canonical_code(text)} if text else set()
        if text.isdigit() and len(text) <= 5:
            found.add(commune_code(text))
    return found


def option_code(element: ElementInfo, given: str | None) -> str:
    """The stored option ("" for none), or ValueError naming the valid ones."""
    text = (given or "").strip()
    if not element.disaggregation:
        if text in ("", DEFAULT_OPTION):
            return ""
        raise ValueError(f"{element.code} has no disaggregation: leave the option empty")
    if text in element.options:
        return text
    wanted = ", ".join(element.options)
    if text in ("", DEFAULT_OPTION):
        raise ValueError(
            f"{element.code} is disaggregated by {element.disaggregation}: give one of {wanted}"
        )
    raise ValueError(f"'{text}' is not an option of {element.disaggregation} (one of {wanted})")
