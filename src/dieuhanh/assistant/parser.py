"""The offline path: a Vietnamese question → a :class:`Query`, deterministic, no model.

Words are folded, expanded and corrected (:mod:`words`, :mod:`spelling`), then read in this
order: the operation (its cue phrases, :mod:`cues`), the periods (:mod:`periods`; a period
introduced by "so với" is what the asked one is compared with), the units (:mod:`placenames`),
the indicator or element (:mod:`measurenames`). A follow-up borrows what it does not say from
the previous query of the conversation. When a unit's name fits several units, or no indicator
fits, the answer is a question back with the choices.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from dieuhanh.assistant import cues
from dieuhanh.assistant.measurenames import MeasureReader
from dieuhanh.assistant.periods import PeriodReading, latest_month, read_periods
from dieuhanh.assistant.placenames import PlaceReader
from dieuhanh.assistant.query import Operation, Order, Query
from dieuhanh.assistant.reading import Choice, Understanding
from dieuhanh.assistant.spelling import correct
from dieuhanh.assistant.vocabulary import Place, Vocabulary
from dieuhanh.assistant.words import split_words
from dieuhanh.indicators.catalog.periods import Period, PeriodType, parse_period

__all__ = ["Choice", "Understanding", "trend_periods", "understand"]

DEFAULT_LIMIT = 5
TREND_MONTHS = 12
_LIMIT = re.compile(
    r"\btop ([0-9]{1,2})\b"
    r"|\b([0-9]{1,2}) (?:xa|phuong|don vi|dia phuong|so|so nganh|co quan|noi)\b"
)
# The words just before a second period that make it the base of a comparison ("so với
# tháng 2", "cùng kỳ năm 2025", "nhiều hơn tháng 2"); "và" too after "so sánh".
_AGAINST = re.compile(r"\b(?:so voi|voi|cung ky|cung ky nam|hon|kem|so)$")
_AGAINST_AND = re.compile(r"\bva$")


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
    words = split_words(question, vocabulary.abbreviations, vocabulary.variants)
    words = correct(words, vocabulary.lexicon)
    if not words:
        return Understanding(problem="empty")
    reader = _Reader(question, words, vocabulary, today, home, previous)
    reader.by_meaning = by_meaning
    return reader.read()


class _Reader(PlaceReader, MeasureReader):
    before_that = False
    against: Operation | None = None  # "tháng 3 so với tháng 2": the comparison the base says

    def read(self) -> Understanding:
        if self.take(self.has(cues.BRIEFING)):
            return Understanding(Query(Operation.BRIEFING, units=(self.home,)))
        readings = self.periods()
        places, ambiguous = self.places()
        if ambiguous:
            return Understanding(clarify=ambiguous)
        status = self.status(readings)
        if status is not None:
            units = tuple(p.code for p in places) or (self.home,)
            return Understanding(status.but(units=units), places=places)
        reporting = self.reporting(readings, places)
        if reporting is not None:
            return reporting
        operation, order, limit = self.operation(readings)
        quality = self.has(cues.BEST) or self.has(cues.WORST)
        measure, choices = self.measure(share=operation is Operation.RANK and bool(quality))
        unknown = self.unknown_unit()
        if unknown is not None:
            return unknown
        if not places and measure is not None:
            for start, end, candidates in self.fuzzy_names():
                self.used.append((start, end))
                if len({p.id for p in candidates}) == 1:
                    places = [candidates[0]]
        follows = self.previous is not None and bool(self.previous.indicator)
        if measure is None and follows and (self.has(cues.FOLLOW_UP) or not self.unread_words()):
            return self.follow_up(operation, order, limit, readings, places)
        if measure is None:
            return Understanding(clarify=choices, problem="unknown_measure", places=places)
        return self.compose(measure, operation, order, limit, readings, places)

    def periods(self) -> list[PeriodReading]:
        # "tháng trước đó": the period before the one the conversation was about.
        self.before_that = self.take(self.has(cues.BEFORE_THAT)) is not None
        # "so với tháng trước" names the comparison, not the period asked about.
        for phrases in (cues.PREVIOUS, cues.LAST_YEAR):
            self.take(self.has(phrases))
        found = [r for r in read_periods(self.text, self.today) if self.free(r.start, r.end)]
        for reading in found:
            self.used.append((reading.start, reading.end))
        return self.without_base(found)

    def without_base(self, found: list[PeriodReading]) -> list[PeriodReading]:
        """ "tháng 3 so với tháng 2", "quý 1 năm nay so với quý 1 năm ngoái", "6 tháng đầu năm
        2025 so với cùng kỳ năm 2024": the second period is what the first is compared with —
        the period before it or the same period a year earlier — not a period asked about."""
        if len(found) == 2 and self.introduced(found[0]) and not self.introduced(found[1]):
            found = [found[1], found[0]]  # "so với tháng 2, … tháng 3": the base said first
        if len(found) < 2 or len(found[0].periods) != 1:
            return sorted(found, key=lambda r: r.start)
        asked = found[0].periods[0]
        kept = [found[0]]
        for reading in found[1:]:
            base = reading.periods[0] if len(reading.periods) == 1 else None
            if base is None or not self.introduced(reading):
                kept.append(reading)
            elif base == asked.same_period_last_year() or base.contains(
                asked.same_period_last_year()
            ):
                self.against = Operation.COMPARE_LAST_YEAR
            elif base == asked.previous():
                self.against = Operation.COMPARE_PREVIOUS
            else:
                kept.append(reading)
        return sorted(kept, key=lambda r: r.start)

    def introduced(self, reading: PeriodReading) -> bool:
        """Said as what something is compared with ("so với tháng 2", "và quý 1/2025" after
        "so sánh")."""
        before = self.text[: reading.start].rstrip()
        against = _AGAINST_AND if "so sanh" in self.text else None
        return bool(_AGAINST.search(before) or (against and against.search(before)))

    def status(self, readings: list[PeriodReading]) -> Query | None:
        subject = None
        if self.take(self.has(cues.CAMERA)):
            subject = "cameras"
        elif self.take(self.has(cues.SOURCES)):
            subject = "sources"
        elif self.take(self.has(cues.ALERTS)):
            subject = "alerts"
        elif self.citizen_reports(readings):
            subject = "reports"
        if subject is None:
            return None
        state = None
        for name, phrases in cues.STATES.get(subject, []):
            if self.has_free(phrases):
                state = name
                break
        return Query(Operation.STATUS, subject=subject, state=state)

    def citizen_reports(self, readings: list[PeriodReading]) -> bool:
        """Citizen reports as things to handle now ("phản ánh hiện trường nào quá hạn"), not
        the count of a period ("số phản ánh của người dân tháng trước")."""
        if self.has(cues.phrases("ty le")):
            return False
        waiting = self.has(cues.REPORT_STATUS) is not None
        named = self.has(cues.CITIZEN) is not None
        return (named and (waiting or not readings)) or (
            waiting and self.has(cues.phrases("phan anh")) is not None
        )

    def reporting(self, readings: list[PeriodReading], places: list[Place]) -> Understanding | None:
        if self.has(cues.phrases("ty le")):
            return None
        said = self.has(cues.REPORTING) is not None
        if not said and not (
            self.has(cues.REPORT)
            and self.has_free(cues.REPORT_STATE)
            and self.longest(self.vocabulary.phrases) is None
        ):
            return None
        departments = cues.DEPARTMENTS.search(self.text) is not None
        form = "DEPARTMENT_MONTHLY" if departments else "COMMUNE_MONTHLY"
        periods = self.single_periods(readings) or (latest_month(self.today).code,)
        # "the province's communes": the province is where, not whom, to list.
        units = tuple(p.code for p in places if p.code != self.vocabulary.province.code)
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
        split = cues.SPLIT_SUPERLATIVE.search(self.text)  # "nhiều phản ánh nhất"
        ranked = [self.has(p) for p in (cues.HIGHEST, cues.LOWEST, cues.BEST, cues.WORST)]
        if split or any(ranked):
            order = None
            if self.has(cues.LOWEST) or (split and split[1] in ("thap", "it", "nho")):
                order = Order.LOWEST
            elif self.has(cues.HIGHEST) or split:
                order = Order.HIGHEST
            return Operation.RANK, order, limit or DEFAULT_LIMIT
        if limit is not None:
            return Operation.RANK, Order.HIGHEST, limit
        if self.has(cues.LAST_YEAR):
            return Operation.COMPARE_LAST_YEAR, None, None
        if self.has(cues.PREVIOUS):
            return Operation.COMPARE_PREVIOUS, None, None
        if self.against is not None:
            return self.against, None, None
        if self.has(cues.TREND) or any(r.series for r in readings):
            return Operation.TREND, None, None
        return None, None, None

    def limit(self) -> int | None:
        match = _LIMIT.search(self.text)
        if match:
            group = 1 if match[1] else 2
            if self.free(match.start(group), match.end(group)):
                count = int(match[group])
                return count if 1 <= count <= 50 else None
        return None

    def best_order(self, direction: str | None) -> Order | None:
        best = self.has(cues.BEST) is not None
        worst = self.has(cues.WORST) is not None
        if not best and not worst:
            return None
        lower_better = direction == "lower_is_better"
        return Order.LOWEST if best == lower_better else Order.HIGHEST

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
            level = "department" if cues.DEPARTMENTS.search(self.text) else "commune"
            periods = self.asked_periods(readings, operation)
            # "cao nhất tỉnh": the province is where the ranking is, not a unit in it.
            units = tuple(u for u in units if u != self.vocabulary.province.code)
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
