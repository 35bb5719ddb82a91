"""The units a question names: the longest names first; "xã"/"phường" optional; former and
pre-2025 names; misspelt names by spelling; a name the province does not have said so."""

from __future__ import annotations

import difflib
import itertools
import re

from dieuhanh.assistant import cues
from dieuhanh.assistant.reading import Choice, Reading, Understanding
from dieuhanh.assistant.spelling import compound
from dieuhanh.assistant.vocabulary import Place
from dieuhanh.assistant.words import KEYWORDS, joined, word_set
from dieuhanh.core.text import fold, name_key

TYPE_WORDS = {"xa": "commune", "phuong": "ward"}
# Words before a unit's name, today's or a pre-2025 one ("huyện Vĩnh Cửu": no unit of ours).
_UNIT_WORDS = frozenset([*TYPE_WORDS, "huyen"])
# Words after "xã"/"phường" that are not a name ("xã nào", "các xã có", "xã, phường").
_NOT_A_NAME = word_set(
    """
    nao co da chua dang phuong xa nay do khac trong thuoc va ma duoc gui nop cao thap it nhieu
    lon nho tot kem cua o tai la bi can theo ve dung dan cung voi so hien thang quy nam tuan
    top xep con thi sao vay the ra nhung cac tren duoi bao
    """
)
# "xã mình", "phường ta": the asker's own unit, not a name.
_PRONOUNS = frozenset(["minh", "ta", "toi", "nha", "em", "anh", "chi", "chung"])
_PLURAL = frozenset(["cac", "nhung", "moi", "tung", "may", "bao"])
_PERIOD_WORDS = frozenset(["thang", "quy", "nam", "tuan", "ngay", "tu", "den", "hom", "so"])
_PROVINCE_WORDS = frozenset(["tinh", "toan tinh", "ca tinh", "tinh nha"])
_TINH = frozenset(["tỉnh", "toàn tỉnh", "cả tỉnh", "tỉnh nhà"])
_WHOLE_PROVINCE = frozenset(["toan tinh", "ca tinh"])
# Words between a pre-2025 name and its district: "xã X, huyện Y", "phường X thuộc TP. Y cũ".
_DISTRICT_WORDS = word_set("huyen thanh pho thi xa cu thuoc truoc day tp tx")
Found = list[tuple[int, int, list[Place]]]


class PlaceReader(Reading):
    def places(self) -> tuple[list[Place], list[Choice]]:
        found = self.without_districts(self.named_places() or self.fuzzy_places())
        found = self.without_context(found)
        chosen: dict[str, Place] = {}  # by code: "Xuân An, Long Khánh" is one unit
        choices: list[Choice] = []
        for start, end, candidates in found:
            narrowed = self.narrow(start, end, candidates)
            self.used.append((start, end))
            if len(narrowed) == 1:
                place = chosen.setdefault(narrowed[0].code, narrowed[0])
                if narrowed[0].former and place is narrowed[0]:
                    self.notes.append(f"{narrowed[0].former} → {narrowed[0].name}")
            else:
                choices.extend(self.unit_choices(start, end, narrowed))
        return list(chosen.values()), choices

    def without_context(self, found: Found) -> Found:
        """ "… của phường Biên Hòa để báo cáo UBND tỉnh": beside a unit, the province said in
        passing is context; "toàn tỉnh", "cả tỉnh" beside a unit are asked about."""
        province = self.vocabulary.province.id
        others = [f for f in found if any(p.id != province for p in f[2])]
        if not others:
            return found
        return [
            f
            for f in found
            if any(p.id != province for p in f[2]) or self.text[f[0] : f[1]] in _WHOLE_PROVINCE
        ]

    def named_places(self) -> Found:
        """Every name found, without overlaps: names spelt as typed first (in "Long Bình tháng
        gần nhất", Long Bình, not Bình Thắng), then the longer, then the earlier."""
        blocked = [
            (m.start(), m.end())
            for p in cues.NOT_NAMES
            for m in cues.pattern(p).finditer(self.text)
        ]
        matches = []
        for key, candidates in self.vocabulary.places.items():
            for match in re.finditer(rf"\b{re.escape(key)}\b", self.text):
                start, end = match.start(), match.end()
                if not self.free(start, end) or any(s < end and start < e for s, e in blocked):
                    continue
                spelled = self.spelled_as_typed(start, end, candidates)
                if key in _PROVINCE_WORDS and not (spelled or self.typed(start, end) in _TINH):
                    continue  # "tính đến nay" is no "tỉnh"
                matches.append((not spelled, -len(key.split()), start, end, candidates))
        found: Found = []
        for _unlike, _size, start, end, candidates in sorted(matches, key=lambda m: m[:3]):
            if not any(s < end and start < e for s, e, _ in found):
                found.append((start, end, candidates))
        return sorted(found, key=lambda f: f[0])

    def typed(self, start: int, end: int) -> str:
        first, last = self.word_at(start), self.word_at(end - 1)
        return " ".join(w.original for w in self.words[first : last + 1])

    def spelled_as_typed(self, start: int, end: int, candidates: list[Place]) -> bool:
        typed = self.typed(start, end)
        return typed.isascii() or any(_bare(p.former or p.name) == typed for p in candidates)

    def without_districts(self, found: Found) -> Found:
        """ "xã Xuân Hiệp, huyện Xuân Lộc", "phường Tân Hiệp (Biên Hòa cũ)": a district named
        after a pre-2025 name says which one is meant; it is not a unit asked about."""
        kept: Found = []
        districts = self.vocabulary.districts
        for start, end, candidates in found:
            if any(s < end and start < e for s, e in self.used):
                continue  # the district of the name before
            if kept and self.text[start:end] in districts:
                between = self.text[kept[-1][1] : start].split()
                if (
                    between
                    and between[0] in ("huyen", "thi", "thanh")
                    and set(between) <= _DISTRICT_WORDS
                ):
                    self.used.append((start, end))  # "xã Xuân Phú, huyện Xuân Lộc": where it was
                    continue
            words = self.text[end:].split()
            while words and words[0] in _DISTRICT_WORDS:
                words.pop(0)
            after = " ".join(words)
            of_district = [
                p for p in candidates if p.district and _starts(after, name_key(p.district))
            ]
            if of_district:
                key = name_key(of_district[0].district or "")
                district_start = end + self.text[end:].index(key, 0)
                self.used.append((district_start, district_start + len(key)))
                candidates = of_district
            kept.append((start, end, candidates))
        return kept

    def unknown_unit(self) -> Understanding | None:
        """ "xã Không Tồn Tại": a unit named that the province does not have is said so, with the
        closest names, rather than answered for the province."""
        starts = self.starts()
        for index, word in enumerate(self.words[:-1]):
            after = self.words[index + 1]
            before = self.words[index - 1].folded if index else ""
            following = self.words[index + 2].folded if index + 2 < len(self.words) else ""
            if (
                word.folded not in _UNIT_WORDS
                or not self.free(starts[index], starts[index] + len(word.folded))
                or not self.free(starts[index + 1], starts[index + 1] + len(after.folded))
                or after.folded in _NOT_A_NAME
                or cues.starts_with(self.text[starts[index + 1] :], cues.ORDERS)
                or before in _PLURAL
                or after.folded.isdigit()
                or (after.folded in _PRONOUNS and (not following or following in _NOT_A_NAME))
            ):
                continue
            name = self.words[index + 1 : index + 4]
            for size, w in enumerate(name):
                if size and (w.folded in _PERIOD_WORDS or w.folded.isdigit()):
                    name = name[:size]  # "xã Không Tồn Tại tháng trước": the name ends here
                    break
            typed = " ".join(w.folded for w in name)
            written = self.question[after.start : name[-1].end]
            ranked = sorted(
                (difflib.SequenceMatcher(None, key, typed[: len(key)]).ratio(), key)
                for key in self.vocabulary.places
            )
            closest = [p for _r, key in ranked[-3:][::-1] for p in self.vocabulary.places[key]]
            start = starts[index + 1]
            choices = self.unit_choices(start, start + len(after.folded), closest[:3])
            return Understanding(
                clarify=choices, problem=f"unknown_unit:{written.strip()}", places=[]
            )
        return None

    def fuzzy_places(self) -> Found:
        """A misspelt name after "xã"/"phường" ("xa lok thanh"): the names closest to the words
        that follow (difflib's ratio ≥ 0.85 on the whole name)."""
        found: Found = []
        starts = self.starts()
        for index, word in enumerate(self.words[:-1]):
            after = self.words[index + 1].folded
            before = self.words[index - 1].folded if index else ""
            if word.folded not in TYPE_WORDS or after in KEYWORDS or before in _PLURAL:
                continue  # "các xã theo …", "xã nào": no name follows
            best: list[tuple[float, str]] = []
            for key in self.vocabulary.places:
                size = len(key.split())
                window = self.words[index + 1 : index + 1 + size]
                if len(window) < size:
                    continue
                ratio = difflib.SequenceMatcher(None, key, joined(window)).ratio()
                if ratio >= 0.85:
                    best.append((ratio, key))
            if best:
                top = max(r for r, _ in best)
                keys = [k for r, k in best if r == top]
                size = len(keys[0].split())
                start = starts[index + 1]
                end = start + len(joined(self.words[index + 1 : index + 1 + size]))
                if self.free(start, end):
                    found.append((start, end, [p for k in keys for p in self.vocabulary.places[k]]))
        return found

    def fuzzy_names(self) -> Found:
        """A misspelt name anywhere ("Long Thàhn", "Tảng Dài"): unread words side by side whose
        spelling is within difflib's 0.88 of one name, read after the indicator (whose words
        are not a name) and without the question's own words ("đang hoạt động")."""
        starts = self.starts()
        best: tuple[float, int, int, str] | None = None
        for key in self.vocabulary.places:
            size = len(key.split())
            if size < 2:
                continue
            for index in range(len(self.words) - size + 1):
                window = self.words[index : index + size]
                start = starts[index]
                end = start + len(joined(window))
                typed = " ".join(fold(w.original) for w in window)  # before typo correction
                if not self.free(start, end) or any(w in KEYWORDS for w in typed.split()):
                    continue
                if any(compound(a, b) for a, b in itertools.pairwise(window)):
                    continue  # "bình quân" is a word, not a misspelt "Định Quán"
                ratio = difflib.SequenceMatcher(None, key, typed).ratio()
                if ratio >= 0.88 and (best is None or ratio > best[0]):
                    best = (ratio, start, end, key)
        if best is None:
            return []
        return [(best[1], best[2], self.vocabulary.places[best[3]])]

    def narrow(self, start: int, end: int, candidates: list[Place]) -> list[Place]:
        first, last = self.word_at(start), self.word_at(end - 1)
        unique = list({p.id: p for p in candidates}.values())
        if len(unique) == 1:
            return unique
        before = self.words[first - 1].folded if first > 0 else ""
        typed = TYPE_WORDS.get(before)
        if typed:
            unique = [p for p in unique if _type_of(p) == typed] or unique
        elif before == "tinh":
            unique = [p for p in unique if p.type == "province"] or unique
        else:
            # Without "xã"/"phường" a current name wins over a former one ("Đồng Nai").
            unique = [p for p in unique if p.former is None] or unique
        original = " ".join(w.original for w in self.words[first : last + 1])
        spelled = [p for p in unique if _bare(p.former or p.name) == original]
        if len(spelled) == 1 or original.isascii():
            return spelled if len(spelled) == 1 else unique
        # Typed with marks that fit none exactly ("Lôc Thạnh"): the one written most alike.
        likeness = {p.id: _likeness(original, _bare(p.former or p.name)) for p in unique}
        best = max(likeness.values())
        closest = [p for p in unique if likeness[p.id] == best]
        return closest if len(closest) == 1 else unique

    def unit_choices(self, start: int, end: int, places: list[Place]) -> list[Choice]:
        first, last = self.word_at(start), self.word_at(end - 1)
        a, b = self.words[first].start, self.words[last].end
        if first > 0 and self.words[first - 1].folded in TYPE_WORDS:
            a = self.words[first - 1].start
        choices = []
        for place in sorted(places, key=lambda p: p.name):
            label = f"{place.name} ({place.code})"
            if place.former:
                label = f"{place.former} (nay là {place.name}, {place.code})"
            choices.append(Choice(label, self.question[:a] + place.name + self.question[b:]))
        return choices


def _likeness(typed: str, name: str) -> float:
    return difflib.SequenceMatcher(None, typed, name).ratio()


def _starts(text: str, words: str) -> bool:
    return bool(words) and (text == words or text.startswith(words + " "))


def _type_of(place: Place) -> str:
    """A former name's own type ("Xã Phú Thịnh" was a commune, whatever it merged into)."""
    if place.former:
        first = fold(place.former).split()[:1]
        return TYPE_WORDS.get(first[0], place.type) if first else place.type
    return place.type


def _bare(name: str) -> str:
    """A unit's name without its prefix, lower-case, as typed words are compared."""
    words = name.lower().split()
    if words and fold(words[0]) in ("xa", "phuong", "tinh"):
        words = words[1:]
    return " ".join(words)
