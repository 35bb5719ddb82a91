"""What the assistant can name: indicators and data elements (names, short names, codes, the
shipped synonyms), the operating province's units (current names, former names kept by the
units capability, and pre-2025 commune names from underthesea's merger table), read once per
question from the product's own tables.

Everything is compared folded (no diacritics, no case): the displayed names keep their spelling.
"""

from __future__ import annotations

import json
import logging
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.text import fold, name_key
from dieuhanh.indicators.catalog.form_models import ReportForm
from dieuhanh.indicators.catalog.models import DataElement, Indicator, ValueType
from dieuhanh.units.models import Unit, UnitName
from dieuhanh.units.service import find_unit
from dieuhanh.units.types import UnitType

ELEMENT = "#"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Measure:
    """An indicator or a data element, as the answer names it."""

    code: str  # "OVERDUE_DOSSIER_RATE" or "#DOSSIERS_RECEIVED"
    name: str
    unit_of_measure: str
    decimals: int | None
    direction: str | None  # higher_is_better, lower_is_better or None

    @property
    def is_element(self) -> bool:
        return self.code.startswith(ELEMENT)


@dataclass(frozen=True)
class Place:
    """A unit of the operating province as a question may name it."""

    id: int
    code: str
    name: str
    type: str
    parent_id: int | None
    former: str | None = None  # the former name this entry is for ("Xã Lộc Hưng (cũ)")

    @property
    def key(self) -> str:
        return name_key(self.former or self.name)


@dataclass
class Vocabulary:
    province: Place
    measures: dict[str, Measure]
    phrases: dict[str, list[str]]  # folded phrase → measure codes
    places: dict[str, list[Place]]  # folded key (no prefix) → places
    forms: dict[str, str]  # report form code → name
    abbreviations: dict[str, str]
    words: frozenset[str] = field(default_factory=frozenset)  # every known folded word

    def measure(self, code: str) -> Measure | None:
        return self.measures.get(code)

    def place(self, code: str) -> Place | None:
        for places in self.places.values():
            for place in places:
                if place.code == code and place.former is None:
                    return place
        return self.province if code == self.province.code else None


@lru_cache(maxsize=1)
def shipped() -> dict[str, Any]:
    text = resources.files("dieuhanh.assistant").joinpath("synonyms.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


_MERGERS = threading.Lock()


@lru_cache(maxsize=4)
def merger_names(province_code: str) -> tuple[tuple[str, str, str, str], ...]:
    """(old commune, old district, old province, new commune) for the communes merged into the
    province on 1 July 2025, from the table inside underthesea's wheel (read once, offline)."""
    with _MERGERS:
        try:
            import underthesea.address as address

            path = Path(address.__file__).parent / "data" / "mapping.json"
            data = json.loads(path.read_text("utf-8"))
        except (ImportError, OSError, ValueError) as exc:
            # An underthesea without the table: current and recorded former names still work.
            log.warning("pre-2025 commune names unavailable (%s)", exc)
            return ()
    keys = {k for k, v in data["province_names"].items() if v["code"] == province_code}
    return tuple(
        (r["old_ward"], r["old_district"], r["old_province"], r["new_ward"])
        for r in data["ward_mapping"]
        if r["new_province_key"] in keys and r["old_ward"] and r["new_ward"]
    )


def load(session: Session, province_code: str) -> Vocabulary:
    province = find_unit(session, province_code)
    if province is None:
        raise LookupError(f"the operating province {province_code} is not loaded")
    top = Place(province.id, province.code, province.name, province.type, province.parent_id)
    measures, phrases = _measures(session)
    places = _places(session, top)
    forms = dict(session.execute(select(ReportForm.code, ReportForm.name)).all())
    abbreviations = {fold(k): fold(v) for k, v in shipped()["abbreviations"].items()}
    words = {w for phrase in phrases for w in phrase.split()}
    words.update(w for key in places for w in key.split())
    return Vocabulary(top, measures, phrases, places, forms, abbreviations, frozenset(words))


def _measures(session: Session) -> tuple[dict[str, Measure], dict[str, list[str]]]:
    measures: dict[str, Measure] = {}
    phrases: dict[str, list[str]] = {}

    def add(code: str, texts: Iterable[str | None]) -> None:
        for text in texts:
            folded = fold(text or "")
            if folded and code not in phrases.setdefault(folded, []):
                phrases[folded].append(code)

    synonyms = shipped()
    for ind in session.scalars(select(Indicator)):
        measures[ind.code] = Measure(
            ind.code, ind.name, ind.unit_of_measure or "", ind.decimals, ind.direction
        )
        add(ind.code, [ind.name, ind.code, *synonyms["indicators"].get(ind.code, [])])
    numeric = [t.value for t in ValueType if t not in (ValueType.TEXT, ValueType.BOOLEAN)]
    for el in session.scalars(select(DataElement).where(DataElement.value_type.in_(numeric))):
        code = ELEMENT + el.code
        measures[code] = Measure(code, el.name, el.unit_of_measure or "", None, None)
        add(code, [el.name, el.short_name, el.code, *synonyms["elements"].get(el.code, [])])
    return measures, phrases


def _places(session: Session, province: Place) -> dict[str, list[Place]]:
    units = list(session.scalars(select(Unit).where(Unit.parent_id == province.id)))
    places: dict[str, list[Place]] = {}
    current: dict[str, list[Place]] = {}
    for unit in units:
        place = Place(unit.id, unit.code, unit.name, unit.type, unit.parent_id)
        places.setdefault(place.key, []).append(place)
        current.setdefault(place.key, []).append(place)
        if unit.short_name:
            places.setdefault(fold(unit.short_name), []).append(place)
    by_id = {p.id: p for ps in current.values() for p in ps}
    former = session.execute(
        select(UnitName.unit_id, UnitName.name).where(
            UnitName.unit_id.in_(list(by_id)), UnitName.valid_to.is_not(None)
        )
    )
    for unit_id, old in former:
        _add_former(places, current, by_id[unit_id], old)
    for old, _district, _province, new in merger_names(province.code):
        for target in _named(current, new):
            _add_former(places, current, target, old)
    for key in ("tinh", "toan tinh", "ca tinh", "tinh nha", name_key(province.name)):
        places.setdefault(key, []).append(province)
    return places


def _named(current: dict[str, list[Place]], name: str) -> list[Place]:
    """The current unit(s) called exactly ``name`` (its spelling decides between Lộc Thạnh and
    Lộc Thành); all namesakes when the spelling matches none."""
    found = current.get(name_key(name), [])
    exact = [p for p in found if same_spelling(p.name, name)]
    return exact or found


def same_spelling(a: str, b: str) -> bool:
    return unicodedata.normalize("NFC", a).casefold() == unicodedata.normalize("NFC", b).casefold()


def _add_former(
    places: dict[str, list[Place]], current: dict[str, list[Place]], unit: Place, old: str
) -> None:
    key = name_key(old)
    if not key or key in current:  # a current name always wins over a former one
        return
    entry = Place(unit.id, unit.code, unit.name, unit.type, unit.parent_id, former=old)
    if all(p.id != unit.id for p in places.setdefault(key, [])):
        places[key].append(entry)


COMMUNE_TYPES = frozenset({UnitType.COMMUNE.value, UnitType.WARD.value})
