"""The number check (issue 14: "a check refuses any answer containing a number that did not come
from a tool result"): every number written in an answer must be one the queries returned — a
figure, a difference the answer derived from two of them, or a number in the names, periods and
dates those results carry (and the question itself: "top 5", "năm 2025").

Numbers are read both ways they may be written: Vietnamese 1.234,5 and English 1,234.5.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NUMBER = re.compile(r"(?<![\w.,])[-+]?[0-9]+(?:[.,][0-9]+)*")
PLACES = 6


def readings(token: str) -> set[float]:
    """The values a written number may mean: "1.234" is 1234 (Vietnamese) or 1.234 (English)."""
    text = token.lstrip("+")
    candidates = {
        text.replace(".", "").replace(",", "."),  # 1.234,5
        text.replace(",", ""),  # 1,234.5
    }
    if text.count(",") == 1 and "." not in text:
        candidates.add(text.replace(",", "."))
    values = set()
    for candidate in candidates:
        try:
            values.add(round(float(candidate), PLACES))
        except ValueError:
            continue
    return values


def numbers_in(text: str) -> list[str]:
    return [m.group() for m in _NUMBER.finditer(text)]


def allowed(texts: Iterable[str], values: Iterable[float | None]) -> set[float]:
    """Every number of these texts, and these values with the roundings an answer may show."""
    found: set[float] = set()
    for text in texts:
        for token in numbers_in(text):
            found |= readings(token)
            found |= {abs(v) for v in readings(token)}
    for value in values:
        if value is None:
            continue
        for places in range(0, 4):
            found.add(round(round(value, places), PLACES))
            found.add(round(abs(round(value, places)), PLACES))
    return found


def invented(answer: str, permitted: set[float]) -> list[str]:
    """The numbers of ``answer`` none of whose readings is permitted."""
    return [
        token
        for token in numbers_in(answer)
        if not (readings(token) | {abs(v) for v in readings(token)}) & permitted
    ]
