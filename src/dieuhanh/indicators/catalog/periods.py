"""Reporting periods with DHIS2's ISO codes, and DHIS2's relative periods (issue 5).

Codes: daily ``20260315``, weekly ``2026W10`` (ISO 8601 weeks, Monday start, numbered in the
ISO week-year, so ``2026W1`` starts on 29/12/2025), monthly ``202603``, quarterly ``2026Q1``,
six-monthly ``2026S1``, yearly ``2026``. Week codes are written without a leading zero as DHIS2
writes them (``2026W1``); ``2026W01`` is accepted on input.

Periods are values: no database, no clock (``today`` is always passed in, so tests and the demo
can pin it).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cached_property


class PeriodType(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SIXMONTHLY = "sixmonthly"
    YEARLY = "yearly"

    @property
    def rank(self) -> int:
        """Finer types rank lower; a type can be split into any type of lower or equal rank."""
        return _RANK[self]


_RANK = {t: i for i, t in enumerate(PeriodType)}
# Month-aligned types, by their length in months.
_MONTHS = {
    PeriodType.MONTHLY: 1,
    PeriodType.QUARTERLY: 3,
    PeriodType.SIXMONTHLY: 6,
    PeriodType.YEARLY: 12,
}
_ROMAN = ("I", "II", "III", "IV")
_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
LANGUAGES = ("vi", "en")


class PeriodError(ValueError):
    """A period code or name that cannot be used; the message names it and says what is wrong."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"{code if code.strip() else repr(code)}: {reason}")

    def __reduce__(self) -> tuple[type[PeriodError], tuple[str, str]]:
        # The default would call the class with the formatted text only, and fail.
        return type(self), (self.code, self.reason)


def weeks_in_year(year: int) -> int:
    """52 or 53: 28 December always lies in the ISO year's last week."""
    return date(year, 12, 28).isocalendar().week


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _bounds(type: PeriodType, day: date) -> tuple[date, date]:
    try:
        if type is PeriodType.DAILY:
            return day, day
        if type is PeriodType.WEEKLY:
            start = day - timedelta(days=day.weekday())
            return start, start + timedelta(days=6)
        months = _MONTHS[type]
        first = (day.month - 1) // months * months + 1
        return date(day.year, first, 1), _month_end(day.year, first + months - 1)
    except OverflowError:
        raise PeriodError(
            day.isoformat(), f"a {type} period here is outside years 1-9999"
        ) from None


@dataclass(frozen=True, order=True)
class Period:
    """One period; ``end`` is inclusive. Ordered by start (then end, so a month sorts before
    the quarter that starts with it)."""

    start: date
    end: date
    type: PeriodType

    def __post_init__(self) -> None:
        # Only real calendar periods may exist, so two equal codes always mean equal objects.
        if _bounds(self.type, self.start) != (self.start, self.end):
            raise PeriodError(
                f"{self.start.isoformat()}..{self.end.isoformat()}", f"not a {self.type} period"
            )

    def __str__(self) -> str:
        return self.code

    def __repr__(self) -> str:
        return f"Period({self.code!r})"

    @cached_property  # an import asks a handful of periods for their code millions of times
    def code(self) -> str:
        s, t = self.start, self.type
        if t is PeriodType.DAILY:
            return f"{s.year:04d}{s.month:02d}{s.day:02d}"
        if t is PeriodType.WEEKLY:
            iso = s.isocalendar()
            return f"{iso.year:04d}W{iso.week}"
        if t is PeriodType.MONTHLY:
            return f"{s.year:04d}{s.month:02d}"
        if t is PeriodType.QUARTERLY:
            return f"{s.year:04d}Q{(s.month - 1) // 3 + 1}"
        if t is PeriodType.SIXMONTHLY:
            return f"{s.year:04d}S{(s.month - 1) // 6 + 1}"
        return f"{s.year:04d}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def next(self) -> Period:
        return self.offset(1)

    def previous(self) -> Period:
        return self.offset(-1)

    def offset(self, n: int) -> Period:
        """The period of the same type ``n`` periods later (earlier when negative)."""
        try:
            if self.type is PeriodType.DAILY:
                return period_of(self.type, self.start + timedelta(days=n))
            if self.type is PeriodType.WEEKLY:
                return period_of(self.type, self.start + timedelta(weeks=n))
        except OverflowError:
            raise PeriodError(self.code, f"offset {n} leaves years 1-9999") from None
        index = self.start.year * 12 + self.start.month - 1 + n * _MONTHS[self.type]
        year, month = divmod(index, 12)
        if not 1 <= year <= 9999:
            raise PeriodError(self.code, f"offset {n} leaves years 1-9999")
        return period_of(self.type, date(year, month + 1, 1))

    def same_period_last_year(self) -> Period:
        """202603 -> 202503; week 53 becomes week 52 in a 52-week year; 29 February -> 28."""
        if self.type is PeriodType.DAILY:
            year = self.start.year - 1
            day = min(self.start.day, calendar.monthrange(year, self.start.month)[1])
            return period_of(self.type, date(year, self.start.month, day))
        if self.type is PeriodType.WEEKLY:
            iso = self.start.isocalendar()
            week = min(iso.week, weeks_in_year(iso.year - 1))
            return period_of(self.type, date.fromisocalendar(iso.year - 1, week, 1))
        return self.offset(-(12 // _MONTHS[self.type]))

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end

    def split(self, type: PeriodType) -> list[Period]:
        """The periods of a finer (or the same) type inside this one.

        Weeks straddle month and year boundaries, so a week belongs to the period its Monday lies
        in: 2026-01 holds 2026W2..2026W5, and 2026W1 (starting 29/12/2025) belongs to December.
        """
        if type.rank > self.type.rank:
            raise PeriodError(self.code, f"cannot split a {self.type} period into {type} periods")
        first = period_of(type, self.start)
        periods = [first] if first.start >= self.start else []
        current = first.next()
        while current.start <= self.end:
            periods.append(current)
            current = current.next()
        return periods

    def parent(self, type: PeriodType) -> Period:
        """The period of a coarser (or the same) type that contains this period's start."""
        if type.rank < self.type.rank:
            raise PeriodError(self.code, f"a {type} period cannot contain a {self.type} period")
        return period_of(type, self.start)

    def label(self, lang: str = "vi") -> str:
        """A human label: "Tháng 03/2026", "Quý I/2026"; in English "March 2026", "Q1 2026"."""
        if lang not in LANGUAGES:
            raise ValueError(f"unknown label language {lang!r}; use one of {', '.join(LANGUAGES)}")
        s, t, vi = self.start, self.type, lang == "vi"
        if t is PeriodType.DAILY:
            return f"{s.day:02d}/{s.month:02d}/{s.year}"
        if t is PeriodType.WEEKLY:
            iso = s.isocalendar()
            return f"Tuần {iso.week}/{iso.year}" if vi else f"Week {iso.week} {iso.year}"
        if t is PeriodType.MONTHLY:
            return f"Tháng {s.month:02d}/{s.year}" if vi else f"{_EN_MONTHS[s.month - 1]} {s.year}"
        if t is PeriodType.QUARTERLY:
            q = (s.month - 1) // 3
            return f"Quý {_ROMAN[q]}/{s.year}" if vi else f"Q{q + 1} {s.year}"
        if t is PeriodType.SIXMONTHLY:
            half = "đầu" if s.month == 1 else "cuối"
            return f"6 tháng {half} năm {s.year}" if vi else f"H{s.month // 6 + 1} {s.year}"
        return f"Năm {s.year}" if vi else str(s.year)


def period_of(type: PeriodType, day: date) -> Period:
    """The period of ``type`` that contains ``day``."""
    start, end = _bounds(type, day)
    return Period(start, end, type)


def periods_between(type: PeriodType, first: date, last: date) -> list[Period]:
    """Every period of ``type`` that overlaps ``first..last`` (inclusive), in order; [] if
    ``first`` is after ``last``."""
    if first > last:
        return []
    periods = [period_of(type, first)]
    while periods[-1].end < last:
        periods.append(periods[-1].next())
    return periods


# --- parsing ---------------------------------------------------------------------------------

_FORMATS = "yyyyMMdd, yyyyWn, yyyyMM, yyyyQn, yyyySn or yyyy"
# [0-9], not \d: \d also matches Arabic-Indic and other Unicode digits.
_DAILY = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_MONTHLY = re.compile(r"([0-9]{4})([0-9]{2})")
_YEARLY = re.compile(r"[0-9]{4}")
_WEEKLY = re.compile(r"([0-9]{4})W([0-9]+)")
_PART = re.compile(r"([0-9]{4})([QS])([0-9]+)")


def _year(code: str, text: str) -> int:
    year = int(text)
    if year < 1:
        raise PeriodError(code, "year 0 does not exist")
    return year


def _month(code: str, text: str) -> int:
    month = int(text)
    if not 1 <= month <= 12:
        raise PeriodError(code, f"month {month} does not exist")
    return month


def _parse_week(code: str, match: re.Match[str]) -> Period:
    year, digits = _year(code, match[1]), match[2]
    week = int(digits)
    if len(digits) > 2 or not 1 <= week <= 53:
        raise PeriodError(code, f"week {digits} does not exist (weeks are 1-53)")
    if week > weeks_in_year(year):
        raise PeriodError(
            code, f"week {week} does not exist: {year} has {weeks_in_year(year)} weeks"
        )
    return period_of(PeriodType.WEEKLY, date.fromisocalendar(year, week, 1))


def _parse_part(code: str, match: re.Match[str]) -> Period:
    year, letter, digits = _year(code, match[1]), match[2], match[3]
    if letter == "Q":
        if digits not in ("1", "2", "3", "4"):
            raise PeriodError(code, f"quarter {digits} does not exist (quarters are 1-4)")
        return period_of(PeriodType.QUARTERLY, date(year, int(digits) * 3 - 2, 1))
    if digits not in ("1", "2"):
        raise PeriodError(code, f"half-year {digits} does not exist (S1 or S2)")
    return period_of(PeriodType.SIXMONTHLY, date(year, int(digits) * 6 - 5, 1))


def parse_period(code: str) -> Period:
    """A period from its code; surrounding whitespace is ignored, anything else malformed raises
    :class:`PeriodError`."""
    text = code.strip()
    if not text:
        raise PeriodError(code, "empty period code")
    if match := _DAILY.fullmatch(text):
        year = _year(text, match[1])
        month = _month(text, match[2])
        day, last = int(match[3]), calendar.monthrange(year, month)[1]
        if not 1 <= day <= last:
            raise PeriodError(text, f"day {day} does not exist: {month:02d}/{year} has {last} days")
        return period_of(PeriodType.DAILY, date(year, month, day))
    if match := _MONTHLY.fullmatch(text):
        year = _year(text, match[1])
        return period_of(PeriodType.MONTHLY, date(year, _month(text, match[2]), 1))
    if _YEARLY.fullmatch(text):
        return period_of(PeriodType.YEARLY, date(_year(text, text), 1, 1))
    if match := _WEEKLY.fullmatch(text):
        return _parse_week(text, match)
    if match := _PART.fullmatch(text):
        return _parse_part(text, match)
    raise PeriodError(text, f"not a period code (expected {_FORMATS})")


# --- relative periods ------------------------------------------------------------------------


def _this(type: PeriodType, back: int = 0) -> Callable[[date], list[Period]]:
    return lambda today: [period_of(type, today).offset(-back)]


def _last(type: PeriodType, count: int) -> Callable[[date], list[Period]]:
    # As in DHIS2, "last n" ends with the previous period: the current one is still incomplete.
    return lambda today: [period_of(type, today).offset(-i) for i in range(count, 0, -1)]


def _of_year(type: PeriodType, back: int) -> Callable[[date], list[Period]]:
    return lambda today: period_of(PeriodType.YEARLY, today).offset(-back).split(type)


def _year_to_date(today: date) -> list[Period]:
    return periods_between(PeriodType.MONTHLY, date(today.year, 1, 1), today)


def _same_month_last_year(today: date) -> list[Period]:
    return [period_of(PeriodType.MONTHLY, today).same_period_last_year()]


_D, _W, _M = PeriodType.DAILY, PeriodType.WEEKLY, PeriodType.MONTHLY
_Q, _S, _Y = PeriodType.QUARTERLY, PeriodType.SIXMONTHLY, PeriodType.YEARLY
RELATIVE_PERIODS: dict[str, Callable[[date], list[Period]]] = {
    "TODAY": _this(_D),
    "YESTERDAY": _this(_D, 1),
    "LAST_7_DAYS": _last(_D, 7),
    "LAST_14_DAYS": _last(_D, 14),
    "LAST_30_DAYS": _last(_D, 30),
    "THIS_WEEK": _this(_W),
    "LAST_WEEK": _this(_W, 1),
    "LAST_4_WEEKS": _last(_W, 4),
    "LAST_12_WEEKS": _last(_W, 12),
    "LAST_52_WEEKS": _last(_W, 52),
    "THIS_MONTH": _this(_M),
    "LAST_MONTH": _this(_M, 1),
    "LAST_3_MONTHS": _last(_M, 3),
    "LAST_6_MONTHS": _last(_M, 6),
    "LAST_12_MONTHS": _last(_M, 12),
    "MONTHS_THIS_YEAR": _of_year(_M, 0),
    "MONTHS_LAST_YEAR": _of_year(_M, 1),
    "YEAR_TO_DATE": _year_to_date,
    "SAME_MONTH_LAST_YEAR": _same_month_last_year,
    "THIS_QUARTER": _this(_Q),
    "LAST_QUARTER": _this(_Q, 1),
    "LAST_4_QUARTERS": _last(_Q, 4),
    "QUARTERS_THIS_YEAR": _of_year(_Q, 0),
    "QUARTERS_LAST_YEAR": _of_year(_Q, 1),
    "THIS_SIX_MONTH": _this(_S),
    "LAST_SIX_MONTH": _this(_S, 1),
    "LAST_2_SIXMONTHS": _last(_S, 2),
    "THIS_YEAR": _this(_Y),
    "LAST_YEAR": _this(_Y, 1),
    "LAST_5_YEARS": _last(_Y, 5),
    "LAST_10_YEARS": _last(_Y, 10),
}


def relative_periods(name: str, today: date) -> list[Period]:
    """The periods a DHIS2 relative-period name (case-insensitive) means on ``today``, in order."""
    key = name.strip().upper()
    if key not in RELATIVE_PERIODS:
        raise PeriodError(
            name, f"unknown relative period; valid names: {', '.join(RELATIVE_PERIODS)}"
        )
    return RELATIVE_PERIODS[key](today)


def resolve_periods(spec: str, today: date) -> list[Period]:
    """Periods from ``"202601;202602;LAST_12_MONTHS"``: codes and relative names separated by
    ``;`` (empty parts ignored), de-duplicated and sorted."""
    found: set[Period] = set()
    for part in (p.strip() for p in spec.split(";")):
        if not part:
            continue
        if part[0].isascii() and part[0].isdigit():
            found.add(parse_period(part))
        else:
            found.update(relative_periods(part, today))
    if not found:
        raise PeriodError(spec, "no period given")
    return sorted(found)
