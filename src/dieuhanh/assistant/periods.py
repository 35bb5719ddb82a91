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

_M, _Q, _S, _Y, _W, _D = (
    PeriodType.MONTHLY,
    PeriodType.QUARTERLY,
    PeriodType.SIXMONTHLY,
    PeriodType.YEARLY,
    PeriodType.WEEKLY,
    PeriodType.DAILY,
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


_RELATIVE_YEARS = {"nay": 0, "hien tai": 0, "ngoai": -1, "truoc": -1, "qua": -1, "kia": -2}


def _year(text: str | None, today: date) -> int:
    """A year written out ("2025") or said ("nay", "ngoái", "trước", "kia")."""
    if not text:
        return today.year
    return int(text) if text.isdigit() else today.year + _RELATIVE_YEARS[text]


def _named_year(match: re.Match[str]) -> bool:
    return _said(match) is not None


def _said(match: re.Match[str]) -> str | None:
    """The year a pattern read, as written ("2025") or as said ("ngoai")."""
    groups = match.groupdict()
    return groups.get("year") or groups.get("year_said")


def _month(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool] | None:
    month = int(match["month"])
    if not 1 <= month <= 12:
        return None
    year = _year(_said(match), today)
    if not _named_year(match) and month > today.month:
        year -= 1  # "tháng 11" asked in April means last November
    return [period_of(_M, date(year, month, 1))], False, False


def _quarter(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool] | None:
    text = match["quarter"]
    quarter = _ROMAN[text] if text in _ROMAN else int(text)  # "quý 01" is the first
    year = _year(_said(match), today)
    if not _named_year(match) and quarter * 3 - 2 > today.month:
        year -= 1
    return [period_of(_Q, date(year, quarter * 3 - 2, 1))], False, False


def _half(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool]:
    first = match["half"] in ("dau", "")
    year = _year(_said(match), today)
    if not _named_year(match) and not first and today.month < 7:
        year -= 1  # "6 tháng cuối năm" asked in April: last year's second half
    return [period_of(_S, date(year, 1 if first else 7, 1))], False, False


def _quarters_of_year(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool]:
    """ "3 tháng đầu năm" is the first quarter, "9 tháng đầu năm" the first three quarters (as
    many periods), "3 tháng cuối năm" the fourth; a part not begun yet is last year's."""
    count = int(match["count"]) // 3
    first = match["half"] in ("dau", "")
    year = _year(_said(match), today)
    quarters = list(range(1, count + 1)) if first else list(range(5 - count, 5))
    if not _named_year(match) and quarters[0] * 3 - 2 > today.month:
        year -= 1
    return [period_of(_Q, date(year, q * 3 - 2, 1)) for q in quarters], False, False


def _months_since(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool] | None:
    """ "từ tháng 10/2025 đến nay": the months from then to the last one reported."""
    month = int(match["m1"])
    if not 1 <= month <= 12:
        return None
    year = _year(match["y1"], today)
    if match["y1"] is None and month > today.month:
        year -= 1
    first, last = period_of(_M, date(year, month, 1)), period_of(_M, today).previous()
    months = [first]
    while months[-1] < last and len(months) < 36:
        months.append(months[-1].next())
    return (months, True, False) if first <= last else None


def _month_range(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool] | None:
    """ "từ tháng 10/2025 đến tháng 3/2026": the months between, as a series."""
    first_month, last_month = int(match["m1"]), int(match["m2"])
    if not (1 <= first_month <= 12 and 1 <= last_month <= 12):
        return None
    last_year = _year(match["y2"], today)
    if match["y2"] is None and last_month > today.month:
        last_year -= 1
    first_year = _year(match["y1"], today) if match["y1"] else last_year
    if match["y1"] is None and first_month > last_month:
        first_year = last_year - 1
    first = period_of(_M, date(first_year, first_month, 1))
    last = period_of(_M, date(last_year, last_month, 1))
    months = [first]
    while months[-1] < last and len(months) < 36:
        months.append(months[-1].next())
    return (months, True, False) if months[-1] == last else None


def _year_to_date(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool]:
    year = _year(_said(match), today)
    if year < today.year and match.groupdict().get("until_now"):
        # "từ đầu năm 2025 đến nay": every month since, as a series.
        first, last = period_of(_M, date(year, 1, 1)), latest_month(today)
        return [first.offset(i) for i in range(_months_between(first, last) + 1)], True, False
    return [period_of(_Y, date(year, 1, 1))], False, True


def _months_between(first: Period, last: Period) -> int:
    return (last.start.year - first.start.year) * 12 + last.start.month - first.start.month


def _months_listed(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool] | None:
    """ "tháng 10, 11, 12 năm 2025": those months (several figures, not a series)."""
    months = [int(m) for m in match["months"].replace("va ", "").split()]
    if not all(1 <= m <= 12 for m in months) or len(set(months)) != len(months):
        return None
    year = _year(_said(match), today)
    named = _named_year(match)
    return (
        [period_of(_M, date(year - (not named and m > today.month), m, 1)) for m in months],
        False,
        False,
    )


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


def _year_named(match: re.Match[str], today: date) -> Period:
    """The year of "các tháng/quý năm …": ngoái, trước, qua are last year's; a number, that one."""
    text = match["which"]
    year = (
        today.year - 1
        if text in ("ngoai", "truoc", "qua")
        else _year(text if text and text.isdigit() else None, today)
    )
    return period_of(_Y, date(year, 1, 1))


def _months_of_year(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool]:
    months = _year_named(match, today).split(_M)
    return [m for m in months if m <= latest_month(today)], True, False


def _quarters_of(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool]:
    """ "các quý năm 2025": its quarters, as a series (those begun, this year)."""
    quarters = _year_named(match, today).split(_Q)
    return [q for q in quarters if q.start <= latest_month(today).start], True, False


def _day(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool] | None:
    """ "ngày 10/3", "ngày 10/3/2026": that day (a day not come yet this year is last year's)."""
    day, month = int(match["day"]), int(match["month"])
    year = _year(match["year"], today)
    try:
        asked = date(year, month, day)
        if match["year"] is None and asked > today:
            asked = date(year - 1, month, day)
    except ValueError:
        return None
    return [period_of(_D, asked)], False, False


def _whole_year(match: re.Match[str], today: date) -> tuple[list[Period], bool, bool]:
    return [period_of(_Y, date(int(match["year"]), 1, 1))], False, False


def _fixed(make: Callable[[date], list[Period]]) -> Handler:
    return lambda _match, today: (make(today), False, False)


_YEAR_WORD = r"(?:19|20)[0-9]{2}"
# A year after a month, quarter or half: "2025", "năm 2025", "năm nay", "năm ngoái", "năm kia".
_SAID = r"(?P<year_said>nay|hien tai|ngoai|truoc|kia)"
# "T3/26", "quý 1/26": a year written with two digits right after the number.
_YEAR = (
    rf"(?: (?:nam )?(?P<year>{_YEAR_WORD})| nam {_SAID}| (?P<year_short>[23][0-9])\b(?! [a-z]))?"
)
# The same after an expression that ends in "năm" ("6 tháng đầu năm nay").
_OF_YEAR = rf"(?: (?:nam )?(?P<year>{_YEAR_WORD})| {_SAID})?"
_PATTERNS: list[tuple[re.Pattern[str], Handler]] = [
    (re.compile(r"\btu (?:thang )?(?P<m1>[0-9]{1,2})(?: (?:nam )?(?P<y1>(?:19|20)[0-9]{2}))? "
                r"(?:den|toi) (?:het )?thang (?P<m2>[0-9]{1,2})"
                r"(?: (?:nam )?(?P<y2>(?:19|20)[0-9]{2}))?\b"), _month_range),
    (re.compile(r"\btu thang (?P<m1>[0-9]{1,2})(?: (?:nam )?(?P<y1>(?:19|20)[0-9]{2}))? "
                r"(?:den|toi) (?:nay|hien tai|gio)\b"), _months_since),
    (re.compile(r"\b(?P<count>3|9) thang (?P<half>dau|cuoi) nam" + _OF_YEAR + r"\b"),
     _quarters_of_year),
    (re.compile(r"\b6 thang (?P<half>dau|cuoi) nam" + _OF_YEAR + r"\b"), _half),
    # "6 tháng năm 2025", "9 tháng năm nay": the reports named by their length, from January.
    (re.compile(r"\b(?P<count>3|9) thang(?P<half>) nam(?: (?P<year>(?:19|20)[0-9]{2})| "
                r"(?P<year_said>nay|ngoai|truoc|kia))\b"), _quarters_of_year),
    (re.compile(r"\b6 thang(?P<half>) nam(?: (?P<year>(?:19|20)[0-9]{2})| "
                r"(?P<year_said>nay|ngoai|truoc|kia))\b"), _half),
    (re.compile(r"\bnua (?P<half>dau|cuoi) nam" + _OF_YEAR + r"\b"), _half),
    (re.compile(r"\b(?:luy ke )?(?:(?:tu|trong) )?dau nam" + _OF_YEAR +
                r"(?P<until_now> (?:den|toi) (?:nay|hien tai|gio))?\b"), _year_to_date),
    # "lũy kế" alone is the year to date; before a period ("lũy kế 6 tháng…") it says nothing.
    (re.compile(r"\bluy ke(?: nam (?P<year>(?:19|20)[0-9]{2}))?\b"
                r"(?! (?:[0-9]|thang|quy|nua|tu|den|dau))"), _year_to_date),
    (re.compile(r"\b(?P<count>[0-9]{1,2}) thang (?:qua|gan day|gan nhat|vua qua|truoc|"
                r"vua roi)\b"), _last_months),
    (re.compile(r"\b(?P<count>[0-9]{1,2}) quy (?:qua|gan day|gan nhat|vua qua|truoc)\b"),
     _last_quarters),
    (re.compile(r"\b(?:cac|tung) thang (?:trong |cua )?nam (?P<which>nay|ngoai|truoc|qua|"
                r"(?:19|20)[0-9]{2})\b"), _months_of_year),
    (re.compile(r"\b(?:cac|tung|theo) quy (?:trong |cua )?nam (?P<which>nay|ngoai|truoc|qua|"
                r"(?:19|20)[0-9]{2})\b"), _quarters_of),
    (re.compile(r"\bquy (?P<quarter>iv|i{1,3}|0?[1-4])" + _YEAR + r"\b"), _quarter),
    (re.compile(r"\bq(?P<quarter>[1-4])" + _YEAR + r"\b"), _quarter),
    (re.compile(r"\bthang (?P<months>[0-9]{1,2}(?: (?:va )?[0-9]{1,2}\b"
                r"(?! (?:xa|phuong|don vi|dia phuong|so|co quan)\b))+)" + _YEAR + r"\b"),
     _months_listed),
    (re.compile(r"\bthang (?P<month>[0-9]{1,2})" + _YEAR + r"\b"), _month),
    (re.compile(r"\bt(?P<month>[0-9]{1,2}) (?P<year>(?:19|20)[0-9]{2})\b"), _month),
    (re.compile(r"\bthang (?:truoc|vua qua|vua roi|roi|qua) nua\b"), _fixed(_this(_M, 2))),
    (re.compile(r"\bquy (?:truoc|vua qua|vua roi|roi|qua) nua\b"), _fixed(_this(_Q, 2))),
    # "tháng gần nhất", "kỳ báo cáo gần nhất": the last month reported.
    (re.compile(r"\b(?:thang|ky|ky bao cao) (?:gan nhat|moi nhat|gan day nhat)\b"),
     _fixed(_this(_M, 1))),
    (re.compile(r"\bquy (?:gan nhat|moi nhat|gan day nhat)\b"), _fixed(_this(_Q, 1))),
    (re.compile(r"\bthang (?:nay|hien tai)\b"), _fixed(_this(_M))),
    (re.compile(r"\bthang (?:truoc|vua qua|vua roi|roi|qua)\b"), _fixed(_this(_M, 1))),
    (re.compile(r"\bquy (?:nay|hien tai)\b"), _fixed(_this(_Q))),
    (re.compile(r"\bquy (?:truoc|vua qua|vua roi|roi|qua)\b"), _fixed(_this(_Q, 1))),
    (re.compile(r"\bngay (?P<day>[0-9]{1,2}) (?:thang )?(?P<month>[0-9]{1,2})"
                r"(?: (?:nam )?(?P<year>(?:19|20)[0-9]{2}))?\b"), _day),
    (re.compile(r"\bhom nay\b"), _fixed(_this(_D))),
    (re.compile(r"\bhom qua\b"), _fixed(_this(_D, 1))),
    (re.compile(r"\btuan (?:nay|hien tai)\b"), _fixed(_this(_W))),
    (re.compile(r"\btuan (?:truoc|vua qua|roi|qua)\b"), _fixed(_this(_W, 1))),
    (re.compile(r"\bnam (?:nay|hien tai)\b"), _fixed(_this(_Y))),
    (re.compile(r"\bnam kia\b"), _fixed(_this(_Y, 2))),
    (re.compile(r"\bnam (?:ngoai|truoc|vua qua|roi|qua)\b"), _fixed(_this(_Y, 1))),
    (re.compile(r"\b(?:ca )?nam (?P<year>(?:19|20)[0-9]{2})\b"), _whole_year),
    # "03/2026" alone: a month; then a year alone ("so với 2024"), after every expression
    # that holds one.
    (re.compile(r"\b(?P<month>0?[1-9]|1[0-2]) (?P<year>20[1-3][0-9])\b"), _month),
    (re.compile(r"\b(?P<year>20[1-3][0-9])\b"), _whole_year),
]  # fmt: skip


# The word sequences of period expressions ("#": a number), for the typo corrector.
PHRASES = [
    "thang #", "quy #", "nam #", "# thang", "# quy", "thang # nam #", "quy # nam #",
    "thang nay", "thang truoc", "thang truoc nua", "quy nay", "quy truoc", "quy truoc nua",
    "quy vua qua", "quy vua roi", "thang vua qua", "thang vua roi", "nam nay", "nam ngoai",
    "nam truoc", "nam kia", "tu dau nam den nay", "dau nam", "luy ke", "# thang dau nam",
    "# thang cuoi nam", "nua dau nam", "nua cuoi nam", "# thang qua", "# thang gan day",
    "# thang gan nhat", "cac thang nam", "tung thang", "tuan nay", "tuan truoc", "ca nam #",
    "tu thang # den thang #", "thang # vua qua", "hien tai", "hien nay", "quy i", "quy ii",
    "quy iii", "quy iv", "thang gan nhat", "ky gan nhat", "# thang nam", "hom nay", "hom qua",
    "ngay # thang #", "ngay #",
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
