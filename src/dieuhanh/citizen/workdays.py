"""Deadlines in working days: Saturdays, Sundays, Vietnam's public holidays (PyPI ``holidays``
knows them, Tết and the Hùng Kings' day included, moved days off too) and the province's own
days off (the setting ``citizen.days_off``).

A report received on a working day counts from the next one; its deadline is the end of the
working day (17:00 in the province) of the last day it is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

END_OF_DAY = time(17, 0)


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year))


class WorkCalendar:
    def __init__(self, zone: ZoneInfo, days_off: Iterable[date] = ()) -> None:
        self.zone = zone
        self.days_off = frozenset(days_off)

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() < 5 and day not in _public_holidays(day.year) and day not in self.days_off
        )

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end of the ``days``-th working day after ``start``'s day (UTC)."""
        day = start.astimezone(self.zone).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return datetime.combine(day, END_OF_DAY, self.zone).astimezone(ZoneInfo("UTC"))
