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
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.assistant import cues, periods, spelling
from dieuhanh.assistant.words import respell
from dieuhanh.core.text import UNIT_PREFIXES, fold, name_key
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
    district: str | None = None  # a pre-2025 name's district ("Huyện Xuân Lộc")

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
    variants: dict[str, str] = field(default_factory=dict)  # folded phrase → the one we use
    lexicon: spelling.Lexicon = field(
        default_factory=lambda: spelling.Lexicon(frozenset(), frozenset())
    )

    def measure(self, code: str) -> Measure | None:
        return self.measures.get(code)

    @cached_property
    def districts(self) -> frozenset[str]:
        """The pre-2025 districts the merged communes were in, folded ("xuan loc")."""
        return frozenset(
            name_key(p.district) for ps in self.places.values() for p in ps if p.district
        )

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
    variants = {fold(k): fold(v) for k, v in shipped().get("variants", {}).items()}
    measures, phrases = _measures(session, variants)
    places = _places(session, top)
    forms = dict(session.execute(select(ReportForm.code, ReportForm.name)).all())
    abbreviations = {fold(k): fold(v) for k, v in shipped()["abbreviations"].items()}
    words = {w for phrase in phrases for w in phrase.split()}
    words.update(w for key in places for w in key.split())
    spelling.syllables()  # underthesea's dictionary, read once here rather than by a question
    return Vocabulary(
        top, measures, phrases, places, forms, abbreviations, frozenset(words), variants,
        spelling.lexicon(_names(phrases, places), cues.every_phrase(), _written(measures, places)),
    )  # fmt: skip


def _written(measures: dict[str, Measure], places: dict[str, list[Place]]) -> list[str]:
    """Names as written, marks and all."""
    texts = [m.name for m in measures.values()]
    texts += [p.former or p.name for ps in places.values() for p in ps]
    synonyms = shipped()
    texts += [
        t for kind in ("indicators", "elements") for ts in synonyms[kind].values() for t in ts
    ]
    return texts


def _names(phrases: Iterable[str], places: Iterable[str]) -> list[str]:
    """Every name, with the prefixes units are written with ("xã Lộc Ninh", "thành phố Long
    Khánh"), and the period expressions: which word follows which in them tells a typo."""
    known = [*phrases, *periods.PHRASES]
    for key in places:
        known += [key, *(f"{prefix} {key}" for prefix in UNIT_PREFIXES)]
    return known


def _measures(
    session: Session, variants: dict[str, str]
) -> tuple[dict[str, Measure], dict[str, list[str]]]:
    """Every name of every measure, folded, with the codes it names: a name the shipped
    synonyms give a code names that code first (the synonyms say what people mean by it)."""
    measures: dict[str, Measure] = {}
    phrases: dict[str, list[str]] = {}

    def add(code: str, texts: Iterable[str | None], first: bool = False) -> None:
        for text in texts:
            folded = respell(fold(text or ""), variants)
            if not folded:
                continue
            codes = phrases.setdefault(folded, [])
            if code in codes and first:
                codes.remove(code)
            if code not in codes:
                codes.insert(0, code) if first else codes.append(code)

    synonyms = shipped()
    numeric = [t.value for t in ValueType if t not in (ValueType.TEXT, ValueType.BOOLEAN)]
    elements = list(session.scalars(select(DataElement).where(DataElement.value_type.in_(numeric))))
    for ind in session.scalars(select(Indicator)):
        measures[ind.code] = Measure(
            ind.code, ind.name, ind.unit_of_measure or "", ind.decimals, ind.direction
        )
        add(ind.code, [ind.name, ind.code])
    for el in elements:
        code = ELEMENT + el.code
        measures[code] = Measure(code, el.name, el.unit_of_measure or "", None, None)
        add(code, [el.name, el.short_name, el.code])
    for code in measures:
        kind = "elements" if code.startswith(ELEMENT) else "indicators"
        add(code, synonyms[kind].get(code.removeprefix(ELEMENT), []), first=True)
    swaps = [(_folded(a), _folded(b)) for a, b in synonyms.get("interchangeable", [])]
    return measures, _interchanged(phrases, swaps)


def _folded(words: str) -> str:
    """Folded, keeping a leading "^" (at the start of a name only)."""
    return "^" + fold(words[1:]) if words.startswith("^") else fold(words)


def _interchanged(
    phrases: dict[str, list[str]], swaps: list[tuple[str, str]]
) -> dict[str, list[str]]:
    """Each name also with words people use for one another ("trễ hạn" for "quá hạn",
    "xử lý" for "giải quyết"; "số lượng" for "số" at the start); a name given explicitly keeps
    its own codes."""
    more: dict[str, list[str]] = {}
    for phrase, codes in phrases.items():
        padded = f" {phrase} "
        for a, b in swaps + [(b, a) for a, b in swaps]:
            if a.startswith("^"):
                other = b[1:] + phrase[len(a) - 1 :] if phrase.startswith(a[1:] + " ") else None
            else:
                other = (
                    padded.replace(f" {a} ", f" {b} ", 1).strip() if f" {a} " in padded else None
                )
            if other and other not in phrases:
                more.setdefault(other, list(codes))
    return phrases | more


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
        for key in _initials(unit.name) if unit.type == UnitType.DEPARTMENT.value else []:
            places.setdefault(key, []).append(place)
    by_id = {p.id: p for ps in current.values() for p in ps}
    former = session.execute(
        select(UnitName.unit_id, UnitName.name).where(
            UnitName.unit_id.in_(list(by_id)), UnitName.valid_to.is_not(None)
        )
    )
    # The province's names are current names too: "Đồng Nai" is the province before it is the
    # former Xã Đồng Nai (which "xã Đồng Nai" still finds).
    for key in ("tinh", "toan tinh", "ca tinh", "tinh nha", name_key(province.name)):
        places.setdefault(key, []).append(province)
    for unit_id, old in former:
        _add_former(places, current, by_id[unit_id], old)
    for old, district, _province, new in merger_names(province.code):
        for target in _named(current, new):
            _add_former(places, current, target, old, district)
    return places


def _initials(name: str) -> list[str]:
    """How a department is written short: "Sở KH&CN", "Sở GD&ĐT", "Sở VHTTDL" — the initials
    of each part of its name ("Khoa học" | "Công nghệ"), apart and together."""
    if not fold(name).startswith("so "):
        return []
    parts = [p for p in (fold(part) for part in name[3:].replace(" và ", ",").split(",")) if p]
    initials = ["".join(w[0] for w in part.split()) for part in parts]
    return list(dict.fromkeys(["so " + " ".join(initials), "so " + "".join(initials)]))


def _named(current: dict[str, list[Place]], name: str) -> list[Place]:
    """The current unit(s) called exactly ``name`` (its spelling decides between Lộc Thạnh and
    Lộc Thành); all namesakes when the spelling matches none."""
    found = current.get(name_key(name), [])
    exact = [p for p in found if same_spelling(p.name, name)]
    return exact or found


def same_spelling(a: str, b: str) -> bool:
    return unicodedata.normalize("NFC", a).casefold() == unicodedata.normalize("NFC", b).casefold()


def _add_former(
    places: dict[str, list[Place]],
    current: dict[str, list[Place]],
    unit: Place,
    old: str,
    district: str | None = None,
) -> None:
    key = name_key(old)
    if not key or key in current:  # a current name always wins over a former one
        return
    entry = Place(unit.id, unit.code, unit.name, unit.type, unit.parent_id, old, district)
    if all(p.id != unit.id for p in places.setdefault(key, [])):
        places[key].append(entry)


COMMUNE_TYPES = frozenset({UnitType.COMMUNE.value, UnitType.WARD.value})
