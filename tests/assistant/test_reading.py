"""Pure parts of the assistant, no database: Vietnamese period expressions and the number check."""

from __future__ import annotations

from datetime import date

import pytest

from dieuhanh.assistant import numbers
from dieuhanh.assistant.periods import read_periods
from dieuhanh.core.text import fold

TODAY = date(2026, 4, 15)


@pytest.mark.parametrize(
    ("words", "codes"),
    [
        ("tháng trước", ["202603"]),
        ("tháng này", ["202604"]),
        ("tháng 11", ["202511"]),  # not yet this year: last year's
        ("tháng 3/2025", ["202503"]),
        ("T11/2025", ["202511"]),
        ("quý 3 năm 2025", ["2025Q3"]),
        ("quý III/2025", ["2025Q3"]),
        ("Q4 2025", ["2025Q4"]),
        ("quý trước", ["2026Q1"]),
        ("6 tháng đầu năm", ["2026S1"]),
        ("nửa cuối năm 2025", ["2025S2"]),
        ("từ đầu năm đến nay", ["2026"]),
        ("lũy kế năm 2025", ["2025"]),
        ("năm ngoái", ["2025"]),
        ("3 tháng qua", ["202601", "202602", "202603"]),
    ],
)
def test_period_expressions(words: str, codes: list[str]) -> None:
    (reading,) = read_periods(fold(words), TODAY)
    assert [p.code for p in reading.periods] == codes


def test_the_number_check_reads_both_writings() -> None:
    permitted = numbers.allowed(["Tháng 03/2026", "top 5"], [1234.5, 2.95, None])
    assert (
        numbers.invented("1.234,5 hồ sơ; 1,234.5; 3,0%; 2,95%; tháng 03/2026; 5 xã", permitted)
        == []
    )
    assert numbers.invented("tăng lên 4,2% (tháng 03/2026)", permitted) == ["4,2"]
    assert numbers.invented("khoảng 1.300 hồ sơ", permitted) == ["1.300"]
