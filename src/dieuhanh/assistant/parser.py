"""The offline path: a Vietnamese question → a :class:`Query`, deterministic, no model.

Words are folded and corrected (:mod:`words`), then read in this order: the operation (its key
phrases), the periods (:mod:`periods`), the indicator or element (the longest known phrase), the
units (the longest names; "xã"/"phường" optional; former and pre-2025 names). A follow-up
borrows what it does not say from the previous query of the conversation. When a unit's name
fits several units, or no indicator fits, the answer is a question back with the choices.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from dieuhanh.assistant.periods import PeriodReading, latest_month, read_periods
from dieuhanh.assistant.query import Operation, Order, Query
from dieuhanh.assistant.vocabulary import Place, Vocabulary
from dieuhanh.assistant.words import KEYWORDS, Word, correct, joined, split_words, word_index
from dieuhanh.core.text import fold
from dieuhanh.indicators.catalog.periods import Period, PeriodType, parse_period

DEFAULT_LIMIT = 5
TREND_MONTHS = 12


@dataclass(frozen=True)
class Choice:
    label: str
    question: str  # the question to ask instead (sent back as is when the choice is clicked)


@dataclass
class Understanding:
    query: Query | None = None
    clarify: list[Choice] = field(default_factory=list)
    problem: str | None = None  # why there is no query
    places: list[Place] = field(default_factory=list)  # the units named, as matched


def _phrases(text: str) -> list[str]:
    return [fold(p) for p in text.split("|")]


BRIEFING = _phrases(
    "tom tat tinh hinh|tom tat|tinh hinh tuan|ban tin|diem tin|tong quan tinh hinh|"
    "tinh hinh chung|bao cao nhanh"
)
CAMERA = _phrases("camera|cameras|may quay|mat camera")
SOURCES = _phrases("nguon du lieu|ket noi du lieu|dong bo du lieu|nguon ket noi")
ALERTS = _phrases("canh bao")
CITIZEN = _phrases("phan anh hien truong|phan anh cua nguoi dan|phan anh nguoi dan")
REPORT_STATUS = _phrases(
    "chua xu ly|dang xu ly|ton dong|dang mo|con mo|tinh trang|qua han xu ly|chua giai quyet"
)
STATES = {
    "cameras": [
        ("dead", _phrases("mat tin hieu|mat ket noi|khong hoat dong|ngung hoat dong|hong|"
                          "offline|mat song|khong co tin hieu|khong xem duoc|chet|dead|loi")),
        ("live", _phrases("dang hoat dong|hoat dong binh thuong|online|con song|live")),
    ],
    "sources": [
        ("failing", _phrases("loi|that bai|hong|khong chay|failing")),
        ("late", _phrases("cham|tre|khong cap nhat|cu|qua han|late")),
    ],
    "alerts": [("open", _phrases("dang mo|chua xu ly|chua tiep nhan|con mo|moi"))],
    "reports": [("overdue", _phrases("qua han|tre han"))],
}  # fmt: skip
REPORTING = _phrases(
    "chua nop bao cao|chua gui bao cao|chua bao cao|chua nop|chua gui|nop bao cao|gui bao cao|"
    "nop muon|nop tre|tinh hinh bao cao|da nop bao cao|chua hoan thanh bao cao"
)
HIGHEST = _phrases("cao nhat|nhieu nhat|lon nhat|dung dau|dan dau|top|xep hang|bang xep hang")
LOWEST = _phrases("thap nhat|it nhat|nho nhat|dung cuoi|cuoi bang|xep cuoi")
BEST = _phrases("tot nhat|xuat sac nhat|nhanh nhat")
WORST = _phrases("kem nhat|te nhat|cham nhat|yeu nhat|xau nhat")
TREND = _phrases(
    "xu huong|dien bien|bien dong|tang hay giam|tang giam|qua cac thang|theo thang|"
    "theo tung thang|bieu do|thay doi the nao|thay doi ra sao|qua tung thang|hang thang"
)
LAST_YEAR = _phrases(
    "cung ky nam truoc|cung ky nam ngoai|cung ky|so voi nam truoc|so voi nam ngoai|"
    "cung thoi diem nam truoc|"
    "cung thoi diem nam ngoai"
)
PREVIOUS = _phrases(
    "so voi thang truoc|so voi quy truoc|so voi ky truoc|so voi thang lien truoc|"
    "so voi tuan truoc|so voi lan truoc"
)
_LOW_WORDS = ("thap", "it", "nho")
SPLIT_SUPERLATIVE = re.compile(r"\b(cao|nhieu|lon|thap|it|nho)\b(?: \w+){1,8} nhat\b")
FOLLOW_UP = _phrases("con|thi sao|the nao|ra sao|vay|so voi|cung ky|the con|con o")
BEFORE_THAT = _phrases("thang truoc do|quy truoc do|ky truoc do|nam truoc do|thang lien truoc do")
DEPARTMENTS = _phrases("so nao|so nganh nao|co quan nao|ban nganh nao|don vi cap tinh nao")
TYPE_WORDS = {"xa": "commune", "phuong": "ward"}
# Words after "xã"/"phường" that are not a name ("xã nào", "các xã có", "xã, phường").
_NOT_A_NAME = frozenset(
    [
        "nao",
        "co",
        "da",
        "chua",
        "dang",
        "phuong",
        "xa",
        "nay",
        "do",
        "khac",
        "trong",
        "thuoc",
        "va",
        "ma",
        "duoc",
        "gui",
        "nop",
        "cao",
        "thap",
        "it",
        "nhieu",
        "lon",
        "nho",
        "tot",
        "kem",
        "cua",
        "o",
        "tai",
        "la",
        "bi",
        "can",
    ]
)
_PLURAL = frozenset(["cac", "nhung", "moi", "tung", "may", "bao"])


def _find(text: str, phrases: list[str]) -> re.Match[str] | None:
    found = [m for p in phrases if (m := re.search(rf"\b{re.escape(p)}\b", text)) is not None]
    return min(found, key=lambda m: (m.start(), -len(m.group()))) if found else None


def understand(
    question: str,
    vocabulary: Vocabulary,
    *,
    today: date,
    home: str,
    previous: Query | None = None,
    by_meaning: Callable[[str], tuple[str, float] | None] | None = None,
) -> Understanding:
    """``home``: the unit a question without one is about (the asker's, or the province).
    ``previous``: the conversation's last query, for follow-ups."""
    words = correct(split_words(question, vocabulary.abbreviations), vocabulary.words)
    text = joined(words)
    if not text:
        return Understanding(problem="empty")
    reader = _Reader(question, words, text, vocabulary, today, home, previous)
    reader.by_meaning = by_meaning
    return reader.read()


class _Reader:
    def __init__(
        self,
        question: str,
        words: list[Word],
        text: str,
        vocabulary: Vocabulary,
        today: date,
        home: str,
        previous: Query | None,
    ) -> None:
        self.question = question
        self.words = words
        self.text = text
        self.vocabulary = vocabulary
        self.today = today
        self.home = home
        self.previous = previous
        self.used: list[tuple[int, int]] = []  # character spans of ``text`` already read
        self.by_meaning: Callable[[str], tuple[str, float] | None] | None = None
        self.before_that = False
        self.notes: list[str] = []

    def has(self, phrases: list[str]) -> re.Match[str] | None:
        return _find(self.text, phrases)

    def take(self, match: re.Match[str] | None) -> re.Match[str] | None:
        if match is not None:
            self.used.append((match.start(), match.end()))
        return match

    def free(self, start: int, end: int) -> bool:
        return all(end <= s or e <= start for s, e in self.used)

    # --- the reading ---------------------------------------------------------------------

    def read(self) -> Understanding:
        if self.take(self.has(BRIEFING)):
            return Understanding(Query(Operation.BRIEFING, units=(self.home,)))
        readings = self.periods()
        places, ambiguous = self.places()
        if ambiguous:
            return Understanding(clarify=ambiguous)
        status = self.status()
        if status is not None:
            units = tuple(p.code for p in places) or (self.home,)
            return Understanding(status.but(units=units), places=places)
        reporting = self.reporting(readings, places)
        if reporting is not None:
            return reporting
        operation, order, limit = self.operation(readings)
        measure, choices = self.measure()
        unknown = self.unknown_unit()
        if unknown is not None:
            return unknown
        if not places and measure is not None:
            for start, end, candidates in self.fuzzy_names():
                self.used.append((start, end))
                if len({p.id for p in candidates}) == 1:
                    places = [candidates[0]]
        follows = self.previous is not None and bool(self.previous.indicator)
        if measure is None and follows and (self.has(FOLLOW_UP) or not self.unread_words()):
            return self.follow_up(operation, order, limit, readings, places)
        if measure is None:
            return Understanding(clarify=choices, problem="unknown_measure", places=places)
        return self.compose(measure, operation, order, limit, readings, places)

    def periods(self) -> list[PeriodReading]:
        # "tháng trước đó": the period before the one the conversation was about.
        self.before_that = self.take(self.has(BEFORE_THAT)) is not None
        # "so với tháng trước" names the comparison, not the period asked about.
        for phrases in (PREVIOUS, LAST_YEAR):
            self.take(self.has(phrases))
        found = [r for r in read_periods(self.text, self.today) if self.free(r.start, r.end)]
        for reading in found:
            self.used.append((reading.start, reading.end))
        return found

    def status(self) -> Query | None:
        subject = None
        if self.take(self.has(CAMERA)):
            subject = "cameras"
        elif self.take(self.has(SOURCES)):
            subject = "sources"
        elif self.take(self.has(ALERTS)):
            subject = "alerts"
        elif (
            self.has(CITIZEN) or (self.has(_phrases("phan anh")) and self.has(REPORT_STATUS))
        ) and not self.has(_phrases("ty le")):
            subject = "reports"
        if subject is None:
            return None
        state = None
        for name, phrases in STATES.get(subject, []):
            if self.has(phrases):
                state = name
                break
        return Query(Operation.STATUS, subject=subject, state=state)

    def reporting(self, readings: list[PeriodReading], places: list[Place]) -> Understanding | None:
        if self.has(_phrases("ty le")) or not self.has(REPORTING):
            return None
        departments = self.has(DEPARTMENTS) is not None
        form = "DEPARTMENT_MONTHLY" if departments else "COMMUNE_MONTHLY"
        periods = self.single_periods(readings) or (latest_month(self.today).code,)
        units = tuple(p.code for p in places)
        query = Query(
            Operation.REPORTING,
            indicator=form,
            units=units,
            level=None if units else ("department" if departments else "commune"),
            periods=periods,
        )
        return Understanding(query, places=places)

    def operation(
        self, readings: list[PeriodReading]
    ) -> tuple[Operation | None, Order | None, int | None]:
        limit = self.limit()
        split = SPLIT_SUPERLATIVE.search(self.text)  # "nhiều phản ánh nhất"
        if split or self.has(HIGHEST) or self.has(LOWEST) or self.has(BEST) or self.has(WORST):
            order = None
            if self.has(LOWEST) or (split and split[1] in _LOW_WORDS):
                order = Order.LOWEST
            elif self.has(HIGHEST) or split:
                order = Order.HIGHEST
            return Operation.RANK, order, limit or DEFAULT_LIMIT
        if limit is not None:
            return Operation.RANK, Order.HIGHEST, limit
        if self.has(LAST_YEAR):
            return Operation.COMPARE_LAST_YEAR, None, None
        if self.has(PREVIOUS):
            return Operation.COMPARE_PREVIOUS, None, None
        if self.has(TREND) or any(r.series for r in readings):
            return Operation.TREND, None, None
        return None, None, None

    def limit(self) -> int | None:
        match = re.search(r"\btop ([0-9]{1,2})\b", self.text) or re.search(
            r"\b([0-9]{1,2}) (?:xa|phuong|don vi|dia phuong|so)\b", self.text
        )
        if match and self.free(match.start(1), match.end(1)):
            count = int(match[1])
            return count if 1 <= count <= 50 else None
        return None

    def best_order(self, direction: str | None) -> Order | None:
        best = self.has(BEST) is not None
        worst = self.has(WORST) is not None
        if not best and not worst:
            return None
        lower_better = direction == "lower_is_better"
        return Order.LOWEST if best == lower_better else Order.HIGHEST

    def measure(self) -> tuple[str | None, list[Choice]]:
        best: tuple[int, int, str] | None = None  # (-words, start, code)
        span = (0, 0)
        for phrase, codes in self.vocabulary.phrases.items():
            for match in re.finditer(rf"\b{re.escape(phrase)}\b", self.text):
                if not self.free(match.start(), match.end()):
                    continue
                candidate = (-len(phrase.split()), match.start(), codes[0])
                if best is None or candidate < best:
                    best = candidate
                    span = (match.start(), match.end())
        scattered = self.scattered_measure()
        if scattered is not None and (best is None or scattered[0] > -best[0]):
            return scattered[1], []
        if best is not None:
            self.used.append(span)
            return best[2], []
        if self.by_meaning is not None and not (self.previous and self.has(FOLLOW_UP)):
            meant = self.by_meaning(self.question)
            if meant is not None:
                self.notes.append(f"chỉ số được nhận ra theo nghĩa (độ tương đồng {meant[1]:.2f})")
                return meant[0], []
        return None, self.closest_measures()

    def scattered_measure(self) -> tuple[int, str] | None:
        """A name whose words are all in the question, not side by side ("tỷ lệ phản ánh 1022
        xử lý đúng hạn" for "tỷ lệ phản ánh 1022 đúng hạn"): (its word count, its code), when it
        is longer than any name found side by side. Only words no other reading used count."""
        free: dict[str, int] = {}
        position = 0
        for word in self.words:
            start = position
            position += len(word.folded) + 1
            if self.free(start, start + len(word.folded)):
                free.setdefault(word.folded, start)
        best: tuple[int, str, str] | None = None
        for phrase, codes in self.vocabulary.phrases.items():
            words = phrase.split()
            if len(words) >= 3 and all(w in free for w in words):
                candidate = (len(words), codes[0], phrase)
                if best is None or candidate[0] > best[0]:
                    best = candidate
        if best is None:
            return None
        for w in best[2].split():
            self.used.append((free[w], free[w] + len(w)))
        return best[0], best[1]

    def unread_words(self) -> list[str]:
        """Words of the question no reading used and that carry meaning."""
        spans = self.used
        unread = []
        position = 0
        for word in self.words:
            start, end = position, position + len(word.folded)
            position = end + 1
            if word.folded in _FILLER or any(s <= start and end <= e for s, e in spans):
                continue
            unread.append(word.folded)
        return unread

    def closest_measures(self) -> list[Choice]:
        asked = set(self.text.split()) - _FILLER
        scored = []
        for code, measure in self.vocabulary.measures.items():
            names = [p for p, codes in self.vocabulary.phrases.items() if code in codes]
            overlap = max((len(asked & set(n.split())) / len(n.split()) for n in names), default=0)
            # Half a name's words; any shared word when the question names a unit or period
            # (it asks for a figure, just not one we know).
            if overlap >= (0.01 if self.used else 0.5):
                scored.append((-overlap, measure.is_element, measure.name, measure))
        scored.sort(key=lambda item: item[:3])
        return [Choice(m.name, f"{m.name} {self.rest()}".strip()) for *_, m in scored[:3]]

    def rest(self) -> str:
        """The question's units and periods, to ask again with a chosen indicator."""
        parts = []
        for start, end in sorted(self.used):
            first, last = word_index(self.words, start), word_index(self.words, end - 1)
            a, b = self.words[first].start, self.words[last].end
            parts.append(self.question[a:b])
        return " ".join(dict.fromkeys(parts))

    def places(self) -> tuple[list[Place], list[Choice]]:
        found: list[tuple[int, int, list[Place]]] = []
        keys = sorted(self.vocabulary.places, key=lambda k: -len(k))
        for key in keys:
            for match in re.finditer(rf"\b{re.escape(key)}\b", self.text):
                start, end = match.start(), match.end()
                if not self.free(start, end) or any(s < end and start < e for s, e, _ in found):
                    continue
                found.append((start, end, self.vocabulary.places[key]))
        if not found:
            found = self.fuzzy_places()
        found.sort()
        chosen: list[Place] = []
        choices: list[Choice] = []
        for start, end, candidates in found:
            narrowed = self.narrow(start, end, candidates)
            self.used.append((start, end))
            if len(narrowed) == 1:
                chosen.append(narrowed[0])
                if narrowed[0].former:
                    self.notes.append(f"{narrowed[0].former} → {narrowed[0].name}")
            else:
                choices.extend(self.unit_choices(start, end, narrowed))
        return list(dict.fromkeys(chosen)), choices

    def unknown_unit(self) -> Understanding | None:
        """ "xã Không Tồn Tại": a unit named that the province does not have is said so, with the
        closest names, rather than answered for the province."""
        position = 0
        for index, word in enumerate(self.words[:-1]):
            start = position
            position += len(word.folded) + 1
            after = self.words[index + 1]
            before = self.words[index - 1].folded if index else ""
            if (
                word.folded not in TYPE_WORDS
                or not self.free(start, start + len(word.folded))
                or not self.free(position, position + len(after.folded))
                or after.folded in _NOT_A_NAME
                or before in _PLURAL
                or after.folded.isdigit()
            ):
                continue
            typed = " ".join(w.folded for w in self.words[index + 1 : index + 4])
            end = self.words[min(index + 3, len(self.words) - 1)].end
            written = self.question[after.start : end]
            ranked = sorted(
                (difflib.SequenceMatcher(None, key, typed[: len(key)]).ratio(), key)
                for key in self.vocabulary.places
            )
            closest = [p for _r, key in ranked[-3:][::-1] for p in self.vocabulary.places[key]]
            choices = self.unit_choices(position, position + len(after.folded), closest[:3])
            return Understanding(
                clarify=choices, problem=f"unknown_unit:{written.strip()}", places=[]
            )
        return None

    def fuzzy_places(self) -> list[tuple[int, int, list[Place]]]:
        """A misspelt name after "xã"/"phường" ("xa lok thanh"): the names closest to the words
        that follow (difflib's ratio ≥ 0.85 on the whole name)."""
        found: list[tuple[int, int, list[Place]]] = []
        positions = [m.start() for m in re.finditer(r"\S+", self.text)]
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
                start = positions[index + 1]
                end = start + len(joined(self.words[index + 1 : index + 1 + size]))
                if self.free(start, end):
                    places = [p for k in keys for p in self.vocabulary.places[k]]
                    found.append((start, end, places))
        return found

    def fuzzy_names(self) -> list[tuple[int, int, list[Place]]]:
        """A misspelt name anywhere ("Long Thàhn", "Tảng Dài"): unread words side by side whose
        spelling is within difflib's 0.88 of one name, read after the indicator (whose words
        are not a name) and without the question's own words ("đang hoạt động")."""
        starts = [m.start() for m in re.finditer(r"\S+", self.text)]
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
                ratio = difflib.SequenceMatcher(None, key, typed).ratio()
                if ratio >= 0.88 and (best is None or ratio > best[0]):
                    best = (ratio, start, end, key)
        if best is None:
            return []
        return [(best[1], best[2], self.vocabulary.places[best[3]])]

    def narrow(self, start: int, end: int, candidates: list[Place]) -> list[Place]:
        first, last = word_index(self.words, start), word_index(self.words, end - 1)
        unique = list({p.id: p for p in candidates}.values())
        if len(unique) == 1:
            return unique
        before = self.words[first - 1].folded if first > 0 else ""
        typed = TYPE_WORDS.get(before)
        if typed:
            same_type = [p for p in unique if _type_of(p) == typed]
            unique = same_type or unique
        original = " ".join(w.original for w in self.words[first : last + 1])
        spelled = [p for p in unique if _bare(p.former or p.name) == original]
        return spelled if len(spelled) == 1 else unique

    def unit_choices(self, start: int, end: int, places: list[Place]) -> list[Choice]:
        first, last = word_index(self.words, start), word_index(self.words, end - 1)
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

    def single_periods(self, readings: list[PeriodReading]) -> tuple[str, ...]:
        return tuple(p.code for r in readings for p in r.periods)

    # --- putting it together ---------------------------------------------------------------

    def compose(
        self,
        code: str,
        operation: Operation | None,
        order: Order | None,
        limit: int | None,
        readings: list[PeriodReading],
        places: list[Place],
    ) -> Understanding:
        measure = self.vocabulary.measures[code]
        operation = operation or Operation.VALUE
        units = tuple(p.code for p in places)
        if operation is Operation.RANK:
            order = self.best_order(measure.direction) or order or Order.HIGHEST
            level = "department" if self.has(DEPARTMENTS) else "commune"
            periods = self.asked_periods(readings, operation)
            query = Query(
                operation, code, units=units, level=level, periods=periods,
                order=order, limit=limit,
            )  # fmt: skip
            return Understanding(query, places=places)
        units = units or (self.home,)
        periods = self.asked_periods(readings, operation)
        query = Query(operation, code, units=units, periods=periods, notes=tuple(self.notes))
        return Understanding(query, places=places)

    def asked_periods(self, readings: list[PeriodReading], operation: Operation) -> tuple[str, ...]:
        periods = [p for r in readings for p in r.periods]
        if operation is Operation.TREND:
            return tuple(p.code for p in trend_periods(periods, self.today))
        if not periods:
            return (latest_month(self.today).code,)
        return tuple(p.code for p in periods)

    def follow_up(
        self,
        operation: Operation | None,
        order: Order | None,
        limit: int | None,
        readings: list[PeriodReading],
        places: list[Place],
    ) -> Understanding:
        """ "Còn xã Lộc Quang?", "so với cùng kỳ thì sao?", "tháng 2 thì sao?": what is not said
        comes from the previous query."""
        previous = self.previous
        assert previous is not None and previous.indicator is not None
        if previous.operation in (Operation.REPORTING, Operation.STATUS, Operation.BRIEFING):
            return Understanding(problem="unknown_measure", clarify=self.closest_measures())
        if operation is None:
            operation = previous.operation
            if operation is Operation.RANK and places:
                operation = Operation.VALUE  # "còn xã Lộc Quang?" after a ranking: its figure
            if operation in (Operation.COMPARE_LAST_YEAR, Operation.COMPARE_PREVIOUS) and (
                places or readings
            ):
                operation = previous.operation
        periods = tuple(p.code for r in readings for p in r.periods)
        if not periods and self.before_that and previous.periods:
            periods = tuple(parse_period(code).previous().code for code in previous.periods)
        if not periods:
            periods = previous.periods
            if operation is Operation.TREND and previous.operation is not Operation.TREND:
                periods = tuple(p.code for p in trend_periods([], self.today))
            elif operation is not Operation.TREND and previous.operation is Operation.TREND:
                periods = (previous.periods[-1],)
        elif operation is Operation.TREND:
            periods = self.asked_periods(readings, operation)
        units = tuple(p.code for p in places) or previous.units or (self.home,)
        if operation is Operation.RANK:
            query = Query(
                operation, previous.indicator, units=tuple(p.code for p in places),
                level=previous.level or "commune", periods=periods,
                order=order or previous.order or Order.HIGHEST,
                limit=limit or previous.limit or DEFAULT_LIMIT,
            )  # fmt: skip
        else:
            query = Query(operation, previous.indicator, units=units, periods=periods)
        return Understanding(query, places=places)


def trend_periods(asked: list[Period], today: date) -> list[Period]:
    """A trend's months: those asked for; the months of a longer period asked for (up to the
    last complete month); by default the last twelve months."""
    last = latest_month(today)
    if len(asked) > 1:
        return asked
    if len(asked) == 1 and asked[0].type.rank > PeriodType.MONTHLY.rank:
        return [m for m in asked[0].split(PeriodType.MONTHLY) if m <= last]
    if len(asked) == 1:
        return [asked[0].offset(-i) for i in range(TREND_MONTHS - 1, -1, -1)]
    return [last.offset(-i) for i in range(TREND_MONTHS - 1, -1, -1)]


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


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FILLER = _words(
    """
    la bao nhieu cua xa phuong tinh thang quy nam nay truoc gi the nao o tai trong va co
    con thi sao vay ra cho biet hay minh toi em anh chi xin duoc khong nhe a oi voi dang
    hien hom qua bay gio so
    """
)
