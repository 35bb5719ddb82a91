"""Checking and normalising one value by its element's value type.

Values are stored as normalised text (``value``) plus the number analytics adds up (``numeric``),
so "12.50", "12.5" and " 12.5 " are the same value and re-importing an export changes nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from dieuhanh.indicators.catalog.models import ValueType

MAX_TEXT = 50_000
MAX_COMMENT = 500

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")
# DHIS2's true/false/1/0, and what a Vietnamese spreadsheet says: có/không.
_BOOLEAN = {
    "true": True, "1": True, "có": True, "co": True, "yes": True,
    "false": False, "0": False, "không": False, "khong": False, "no": False,
}  # fmt: skip


# DHIS2's whole-number types, each with the sign its values may have (None: any).
INTEGERS: dict[str, tuple[Callable[[int], bool], str] | None] = {
    ValueType.INTEGER: None,
    ValueType.INTEGER_ZERO_OR_POSITIVE: (lambda n: n >= 0, "zero or more (a count)"),
    ValueType.INTEGER_POSITIVE: (lambda n: n > 0, "1 or more"),
    ValueType.INTEGER_NEGATIVE: (lambda n: n < 0, "below zero"),
}


class ValueTypeError(ValueError):
    """The message names what is wrong in words a person entering figures understands."""


def _hint(text: str) -> str:
    # Vietnamese writes 1.234,5 where the file format wants 1234.5: say so rather than guess.
    if "," in text or (text.count(".") > 1):
        return " (write numbers with a dot for decimals and no thousands separator, e.g. 1234.5)"
    return ""


def format_number(number: float) -> str:
    """The stored spelling: whole numbers without ".0", others as Python's shortest repr."""
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def _integer(value_type: str, stripped: str) -> int:
    if not _INTEGER.fullmatch(stripped):
        raise ValueTypeError(f"'{stripped[:50]}' is not a whole number{_hint(stripped)}")
    whole = int(stripped)
    sign = INTEGERS[value_type]
    if sign is not None and not sign[0](whole):
        raise ValueTypeError(f"{whole} is not allowed: the value must be {sign[1]}")
    return whole


def fits(value_type: str, text: str) -> bool:
    """Whether a stored value is also valid for ``value_type`` (a type may be narrowed)."""
    try:
        normalize(value_type, text)
    except ValueTypeError:
        return False
    return True


def normalize(value_type: str, text: str) -> tuple[str, float | None]:
    """(stored text, numeric) of a non-empty value, or ValueTypeError."""
    if value_type == ValueType.TEXT:
        if len(text) > MAX_TEXT:
            raise ValueTypeError(f"text of {len(text):,} characters; at most {MAX_TEXT:,}")
        return text, None
    stripped = text.strip()
    if value_type == ValueType.BOOLEAN:
        flag = _BOOLEAN.get(stripped.lower())
        if flag is None:
            raise ValueTypeError(
                f"'{stripped[:50]}' is not yes/no: use true/false, 1/0 or có/không"
            )
        return ("true", 1.0) if flag else ("false", 0.0)
    if value_type in INTEGERS:
        whole = _integer(value_type, stripped)
        return str(whole), float(whole)
    if value_type == ValueType.PERCENTAGE:
        stripped = stripped.removesuffix("%").rstrip()
    if not _NUMBER.fullmatch(stripped):
        raise ValueTypeError(f"'{stripped[:50]}' is not a number{_hint(stripped)}")
    number = float(stripped)
    if not math.isfinite(number):
        raise ValueTypeError(f"'{stripped[:50]}' is too large")
    if value_type == ValueType.PERCENTAGE and not 0 <= number <= 100:
        raise ValueTypeError(f"{format_number(number)} is not a percentage between 0 and 100")
    return format_number(number), number
