"""Pure parts of the assistant, no database: Vietnamese period expressions and the number check."""

from __future__ import annotations

from datetime import date

import pytest

from dieuhanh.assistant import cues, numbers, spelling
from dieuhanh.assistant.periods import read_periods
from dieuhanh.assistant.words import joined, split_words
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
        # A year said after a month, quarter or half; "năm kia"; "… trước nữa".
        ("tháng 3 năm nay", ["202603"]),
        ("quý 4 năm ngoái", ["2025Q4"]),
        ("6 tháng cuối năm trước", ["2025S2"]),
        ("năm kia", ["2024"]),
        ("tháng trước nữa", ["202602"]),
        ("quý trước nữa", ["2025Q4"]),
        # A half not begun yet is last year's; reports named by their length from January.
        ("6 tháng cuối năm", ["2025S2"]),
        ("6 tháng năm 2025", ["2025S1"]),
        ("3 tháng đầu năm", ["2026Q1"]),
        ("9 tháng đầu năm 2025", ["2025Q1", "2025Q2", "2025Q3"]),
        ("9 tháng năm nay", ["2026Q1", "2026Q2", "2026Q3"]),
        ("lũy kế 6 tháng đầu năm", ["2026S1"]),
        ("đầu năm đến nay", ["2026"]),
        # The last reported, written forms, ranges and series.
        ("tháng gần nhất", ["202603"]),
        ("quý 01/2026", ["2026Q1"]),
        ("03/2026", ["202603"]),
        ("cả năm 2025", ["2025"]),
        ("từ tháng 11/2025 đến tháng 1/2026", ["202511", "202512", "202601"]),
        ("từ tháng 1 đến nay", ["202601", "202602", "202603"]),
        ("các tháng năm nay", ["202601", "202602", "202603"]),
        ("các quý năm 2025", ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]),
        ("hôm nay", ["20260415"]),
        ("ngày 10/3", ["20260310"]),
        ("ngày 20/5", ["20250520"]),  # not come yet this year
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


ABBREVIATIONS = {"hs": "ho so", "p": "phuong", "x": "xa", "tl": "ty le", "ubnd": "uy ban nhan dan"}
VARIANTS = {"li": "ly", "qua mang": "truc tuyen", "dung hen": "dung han"}


@pytest.mark.parametrize(
    ("question", "read"),
    [
        # Numbers said in words where a number is expected, and only there.
        ("tháng ba năm ngoái", "thang 3 nam ngoai"),
        ("quý một", "quy 1"),
        ("tháng mười hai", "thang 12"),
        ("top ba xã", "top 3 xa"),
        ("mười xã", "10 xa"),
        ("sáu tháng đầu năm", "6 thang dau nam"),
        ("xã Đồng Tâm quý 1", "xa dong tam quy 1"),  # Tâm is no tám
        ("sau tháng 3", "sau thang 3"),  # after March
        ("từ tháng từ đầu năm", "tu thang tu dau nam"),
        # Written forms people shorten; %, "T3", a year in two digits.
        ("TL HS P. Tam Hiệp T3/26", "ty le ho so phuong tam hiep thang 3 2026"),
        ("X. Gia Kiệm bao nhiêu %", "xa gia kiem bao nhieu phan tram"),
        # Spelling and wording variants.
        ("xử lí hồ sơ qua mạng đúng hẹn", "xu ly ho so truc tuyen dung han"),
    ],
)
def test_words_as_read(question: str, read: str) -> None:
    assert joined(split_words(question, ABBREVIATIONS, VARIANTS)) == read


LEXICON = spelling.lexicon(
    ["ho so qua han", "van ban den", "trang dai", "tong dai 1022", "thang #", "cpi", "ban tin"],
    ["xep hang", "so voi"],
    ["Trảng Dài", "tổng đài 1022"],
)


@pytest.mark.parametrize(
    ("question", "read"),
    [
        ("hồ sơ quá hạng", "ho so qua han"),  # a real word that fits neither neighbour
        ("văn bảng đến", "van ban den"),
        ("táng 10", "thang 10"),
        ("Tảng Dài", "trang dai"),  # the marks decide between Trảng and Tổng
        ("hồ sơ trễ hnạ", "ho so tre han"),  # not a word: one edit away, swapped letters
        ("xếp hạng", "xep hang"),  # "hạng" where it belongs stays
        ("chỉ số cpi", "chi so cpi"),  # an acronym of ours is never re-spelled
        ("địa bàn tỉnh", "dia ban tinh"),  # a Vietnamese word (underthesea's dictionary)
    ],
)
def test_typos_corrected_by_their_neighbours(question: str, read: str) -> None:
    assert joined(spelling.correct(split_words(question, {}), LEXICON)) == read


def test_cue_phrases_take_glue_words_or_leave_them_out() -> None:
    pattern = cues.pattern("chua duoc tiep nhan")
    assert pattern.search("canh bao chua tiep nhan") and pattern.search("chua duoc tiep nhan")
    assert cues.pattern("ty le van ban di ky so").search("ty le van ban di duoc ky so")
    assert not cues.pattern("tiep nhan").search("tiep nhanh")
    assert cues.size("bao nhieu ho so") == 2  # question words name nothing
