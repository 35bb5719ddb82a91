"""Period expressions as leaders say them, read on folded text ("thang truoc", "quy 3 nam 2025",
"6 thang dau nam", "tu dau nam", "12 thang qua") into the indicators' own periods.

"Từ đầu năm" (year to date) is the year itself: analytics adds up what is stored, and nothing
is stored past the last month reported, so the year's figure is the year to date — and a ratio
stays numerator-sum over denominator-sum, which adding monthly rates would not give.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from dieuhanh.indicators.catalog.periods import Period, PeriodType, period_of

_M, _Q, _S, _Y, _W = (
    PeriodType.MONTHLY,
    PeriodType.QUARTERLY,
    PeriodType.SIXMONTHLY,
    PeriodType.YEARLY,
    PeriodType.WEEKLY,
)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


@dataclass(frozen=True)
class PeriodReading:
    periods: tuple[Period, ...]
    start: int  # where the words were in the folded question
    end: int
    series: bool = False  # several periods meant as a trend ("12 tháng qua")
    to_date: bool = False  # "từ đầu năm": the year so far


Handler = Callable[[re.Match[str], date], tuple[list[Period], bool, bool] | None]


def _this(type: PeriodType, back: int = 0) -> Callable[[date], list[Period]]:
    return lambda today: [period_of(type, today).offset(-back)]


def _year(text: str | None, today: date) -> int:
    return int(text) if text else today.year


def _month(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool] | None:
    month = int(match["month"])
    if not 1 <= month <= 12:
        return None
    year = _year(match["year"], today)
    if match["year"] is None and month > today.month:
        year -= 1  # "tháng 11" asked in April means last November
    return [period_of(_M, date(year, month, 1))], False, False


def _quarter(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool] | None:
    text = match["quarter"]
    quarter = _ROMAN[text] if text in _ROMAN else int(text)
    year = _year(match["year"], today)
    if match["year"] is None and quarter * 3 - 2 > today.month:
        year -= 1
    return [period_of(_Q, date(year, quarter * 3 - 2, 1))], False, False


def _half(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool]:
    first = match["half"] == "dau"
    year = _year(match["year"], today)
    return [period_of(_S, date(year, 1 if first else 7, 1))], False, False


def _year_to_date(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool]:
    return [period_of(_Y, date(_year(match["year"], today), 1, 1))], False, True


def _last_months(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool] | None:
    count = int(match["count"])
    if not 2 <= count <= 36:
        return None
    current = period_of(_M, today)
    return [current.offset(-i) for i in range(count, 0, -1)], True, False


def _last_quarters(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool] | None:
    count = int(match["count"])
    if not 2 <= count <= 12:
        return None
    current = period_of(_Q, today)
    return [current.offset(-i) for i in range(count, 0, -1)], True, False


def _months_of_year(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool]:
    text = match["which"]
    year = (
        today.year - 1
        if text in ("ngoai", "truoc", "qua")
        else _year(text if text and text.isdigit() else None, today)
    )
    months = period_of(_Y, date(year, 1, 1)).split(_M)
    return [m for m in months if m.start <= today], True, False


def _whole_year(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool]:
    return [period_of(_Y, date(int(match["year"]), 1, 1))], False, False


def _fixed(make: Callable[[date], list[Period]]) -> Handler:
    return lambda _match, today: (make(today), False, False)


_YEAR = r"(?: (?:nam )?(?P<year>(?:19|20)[0-9]{2}))?"
_PATTERNS: list[tuple[re.Pattern[str], Handler]] = [
    (re.compile(r"\b(?:luy ke )?(?:tu|trong) dau nam(?: (?:nam )?(?P<year>(?:19|20)[0-9]{2}))?"
                r"(?: (?:den|toi) (?:nay|hien tai|gio))?\b"), _year_to_date),
    (re.compile(r"\bluy ke(?: nam (?P<year>(?:19|20)[0-9]{2}))?\b"), _year_to_date),
    (re.compile(r"\b(?:6|sau) thang (?P<half>dau|cuoi) nam" + _YEAR + r"\b"), _half),
    (re.compile(r"\bnua (?P<half>dau|cuoi) nam" + _YEAR + r"\b"), _half),
    (re.compile(r"\b(?P<count>[0-9]{1,2}) thang (?:qua|gan day|gan nhat|vua qua|truoc|"
                r"vua roi)\b"), _last_months),
    (re.compile(r"\b(?P<count>[0-9]{1,2}) quy (?:qua|gan day|gan nhat|vua qua|truoc)\b"),
     _last_quarters),
    (re.compile(r"\b(?:cac|tung) thang (?:trong |cua )?nam (?P<which>nay|ngoai|truoc|qua|"
                r"(?:19|20)[0-9]{2})\b"), _months_of_year),
    (re.compile(r"\bquy (?P<quarter>iv|i{1,3}|[1-4])" + _YEAR + r"\b"), _quarter),
    (re.compile(r"\bq(?P<quarter>[1-4])" + _YEAR + r"\b"), _quarter),
    (re.compile(r"\bthang (?P<month>[0-9]{1,2})" + _YEAR + r"\b"), _month),
    (re.compile(r"\bt(?P<month>[0-9]{1,2}) (?P<year>(?:19|20)[0-9]{2})\b"), _month),
    (re.compile(r"\bthang (?:nay|hien tai)\b"), _fixed(_this(_M))),
    (re.compile(r"\bthang (?:truoc|vua qua|vua roi|roi|qua)\b"), _fixed(_this(_M, 1))),
    (re.compile(r"\bquy (?:nay|hien tai)\b"), _fixed(_this(_Q))),
    (re.compile(r"\bquy (?:truoc|vua qua|vua roi|roi|qua)\b"), _fixed(_this(_Q, 1))),
    (re.compile(r"\btuan (?:nay|hien tai)\b"), _fixed(_this(_W))),
    (re.compile(r"\btuan (?:truoc|vua qua|roi|qua)\b"), _fixed(_this(_W, 1))),
    (re.compile(r"\bnam (?:nay|hien tai)\b"), _fixed(_this(_Y))),
    (re.compile(r"\bnam (?:ngoai|truoc|vua qua|roi|qua)\b"), _fixed(_this(_Y, 1))),
    (re.compile(r"\bnam (?P<year>(?:19|20)[0-9]{2})\b"), _whole_year),
]  # fmt: skip


def read_periods(folded: str, today: date) -> list[PeriodReading]:
    """Every period expression in the folded question, in order, without overlaps."""
    taken: list[PeriodReading] = []
    for pattern, handler in _PATTERNS:
        for match in pattern.finditer(folded):
            if any(match.start() < r.end and r.start < match.end() for r in taken):
                continue
            result = handler(match, today)
            if result is None:
                continue
            periods, series, to_date = result
            taken.append(PeriodReading(tuple(periods), match.start(), match.end(), series, to_date))
    return sorted(taken, key=lambda reading: reading.start)


def latest_month(today: date) -> Period:
    """The last month whose reports are in: the default period of a question without one."""
    return period_of(_M, today).previous()
