"""A question as words: each word's original spelling (for display, and to tell Lộc Thạnh from
Lộc Thành) and its folded form (for matching), with the written forms people shorten expanded
("UBND", "HS", "P.", "T3"), spelling variants made one ("xử lí" = "xử lý", "qua mạng" =
"trực tuyến"), "%" read as "phần trăm", and numbers said in words written as digits where they
count months, quarters or communes ("tháng ba", "quý một", "top ba", "mười xã")."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from dieuhanh.core.text import fold


def word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WORD = re.compile(r"\w+|%")
# Words a question is made of besides names: operations, periods, units' prefixes. Typos are
# corrected towards these and the vocabulary's words, never towards a number.
KEYWORDS = word_set(
    """
    thang quy nam tuan nay truoc ngoai qua vua roi dau cuoi nua luy ke tu den hien tai gan day
    nhat cao thap nhieu it lon nho tot kem te cham nhanh dung xep hang top dan bang
    xu huong dien bien bien dong tang giam theo tung cac bieu do thay doi
    so voi cung ky thoi diem sao the nao con
    chua nop gui bao cao muon tre han
    camera tin hieu mat ket noi hong ngung hoat dong song
    nguon du lieu dong bo loi canh bao mo xu ly ton phan anh hien truong
    tom tat tinh hinh tuan tin
    xa phuong tinh toan don vi dia nao bao nhieu la gi ty le cua o tai trong
    phan tram
    """
)
# Southern speech, told apart by its marks (folded, "hông" would be "hỏng": broken).
_SPOKEN = {
    "hông": "khong", "hổng": "khong", "hok": "khong", "hem": "khong", "nhiêu": "bao nhieu",
    "dzậy": "vay", "dậy": "vay", "zậy": "vay", "bữa": "hom", "chót": "cuoi",
}  # fmt: skip
# Numbers said in words, by what may follow or precede them.
_DIGITS = {
    "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8,
    "chin": 9, "muoi": 10, "gieng": 1, "chap": 12,
}  # fmt: skip
_MONTH_WORDS = frozenset(_DIGITS) - {"nam", "bon"}  # "tháng năm 2025": a month and a year
_QUARTER_WORDS = frozenset(["mot", "hai", "ba", "bon", "tu"])
_COUNT_WORDS = frozenset(_DIGITS) - {"gieng", "chap", "tu"}
_FROM = frozenset(["dau", "thang", "ngay", "quy", "khi", "luc"])
_COUNTED = frozenset(["xa", "phuong", "don", "dia", "so", "thang", "quy"])


@dataclass(frozen=True)
class Word:
    folded: str
    original: str  # as typed, NFC and lower-case
    start: int  # character span in the question
    end: int


def split_words(
    question: str, abbreviations: Mapping[str, str], variants: Mapping[str, str] | None = None
) -> list[Word]:
    """``abbreviations``: one folded word → its folded expansion ("ubnd" → "uy ban nhan dan");
    ``variants``: a folded phrase → the phrase the vocabulary uses ("qua mang" → "truc tuyen")."""
    text = unicodedata.normalize("NFC", question)
    words: list[Word] = []
    for match in _WORD.finditer(text):
        original = match.group().lower()
        folded = "phan tram" if original == "%" else fold(original).replace(" ", "")
        if not folded:
            continue
        spoken = _SPOKEN.get(original)
        if spoken and not (spoken == "bao nhieu" and words and words[-1].folded == "bao"):
            folded = spoken  # "hông" is "không" (and no "hỏng"), "nhiêu" is "bao nhiêu"
        expansion = abbreviations.get(folded) or _month_code(folded) or folded
        if _short_year(text, match):
            expansion = "20" + folded
        for part in expansion.split():
            words.append(Word(part, original, match.start(), match.end()))
    return spoken_numbers(_variants(words, variants or {}))


def _short_year(text: str, match: re.Match[str]) -> bool:
    """The "26" of "T3/26": two digits after a month or quarter number and a slash."""
    if re.fullmatch(r"[23][0-9]", match.group()) is None:
        return False
    before = text[max(0, match.start() - 5) : match.start()]  # "T12/" at most, and one more
    return re.search(r"(?:^|[^\w/])(?:[tTqQ])?(?:0?[1-9]|1[0-2])/$", before) is not None


def _month_code(folded: str) -> str | None:
    """ "T3" is "tháng 3" ("Q1" stays one word: the periods read it as it is)."""
    match = re.fullmatch(r"t(1[0-2]|0?[1-9])", folded)
    return f"thang {int(match[1])}" if match else None


def _variants(words: list[Word], variants: Mapping[str, str]) -> list[Word]:
    """Spelling and wording variants replaced by the form the vocabulary uses, longest first;
    the new words keep the span of what was typed."""
    if not variants:
        return words
    longest = max(len(typed.split()) for typed in variants)
    out: list[Word] = []
    index = 0
    while index < len(words):
        for size in range(min(longest, len(words) - index), 0, -1):
            typed = " ".join(w.folded for w in words[index : index + size])
            if typed in variants:
                first, last = words[index], words[index + size - 1]
                span = " ".join(w.original for w in words[index : index + size])
                for part in variants[typed].split():
                    out.append(Word(part, span, first.start, last.end))
                index += size
                break
        else:
            out.append(words[index])
            index += 1
    return out


def spoken_numbers(words: list[Word]) -> list[Word]:
    """ "tháng ba" → "tháng 3", "quý một" → "quý 1", "mười hai" → "12", "top ba" → "top 3",
    "sáu tháng" → "6 tháng": only where a number is expected, so "ba" and "năm" stay words
    elsewhere."""
    out: list[Word] = []
    index = 0
    while index < len(words):
        word = words[index]
        before = out[-1].folded if out else ""
        value, size = _number_at(words, index)
        if value is not None and not _said_as_number(word, before):
            value = None
        wanted = (
            (before == "thang" and word.folded in _MONTH_WORDS and _a_month(words, index))
            or (before == "quy" and word.folded in _QUARTER_WORDS)
            or (before == "top" and word.folded in _COUNT_WORDS)
            or (word.folded in _COUNT_WORDS and _counts(word.folded, words, index + size))
        )
        if value is None or not wanted:
            out.append(word)
            index += 1
            continue
        last = words[index + size - 1]
        span = " ".join(w.original for w in words[index : index + size])
        out.append(Word(str(value), span, word.start, last.end))
        index += size
    return out


# How number words are written: "tâm" (Đồng Tâm) is no "tám".
_WRITTEN = {
    "mot": ("một", "mốt"), "hai": ("hai",), "ba": ("ba",), "bon": ("bốn",), "tu": ("tư",),
    "nam": ("năm", "lăm"), "sau": ("sáu",), "bay": ("bảy", "bẩy"), "tam": ("tám",),
    "chin": ("chín",), "muoi": ("mười", "mươi"), "gieng": ("giêng",), "chap": ("chạp",),
}  # fmt: skip


def _said_as_number(word: Word, before: str) -> bool:
    """Typed with marks, a number word must carry a number's marks; typed without, "tam" (Tâm
    of many names) counts only after "tháng" or "top"."""
    if not word.original.isascii():
        return word.original in _WRITTEN.get(word.folded, ())
    return word.folded != "tam" or before in ("thang", "top")


def _a_month(words: list[Word], index: int) -> bool:
    """ "tháng tư" is April, "tháng từ đầu năm" is not."""
    following = words[index + 1].folded if index + 1 < len(words) else ""
    return words[index].folded != "tu" or not (following.isdigit() or following in _FROM)


def _counts(word: str, words: list[Word], next_index: int) -> bool:
    """A number word followed by what it counts ("ba xã", "sáu tháng"); "năm" only before
    communes ("năm xã": "năm tháng" is rarely five months); not "sau tháng 3" (after March)."""
    following = [w.folded for w in words[next_index : next_index + 2]] + ["", ""]
    if word == "nam":
        return following[0] in ("xa", "phuong", "don", "dia")
    named = following[0] in ("thang", "quy") and following[1].isdigit()
    return following[0] in _COUNTED and not named


def _number_at(words: list[Word], index: int) -> tuple[int | None, int]:
    """The number said at ``index`` and how many words it takes ("mười hai" = 12, 2 words)."""
    first = words[index].folded
    if first not in _DIGITS:
        return None, 1
    second = words[index + 1].folded if index + 1 < len(words) else ""
    if first == "muoi" and second in ("mot", "hai", "lam"):
        return 10 + {"mot": 1, "hai": 2, "lam": 5}[second], 2
    if first in ("hai", "ba") and second in ("muoi", "chuc"):
        return _DIGITS[first] * 10, 2
    return _DIGITS[first], 1


def respell(folded: str, variants: Mapping[str, str]) -> str:
    """A folded name written the way questions are read ("dung hen" → "dung han")."""
    return joined(_variants([Word(w, w, 0, 0) for w in folded.split()], variants))


def joined(words: list[Word]) -> str:
    return " ".join(w.folded for w in words)


def word_index(words: list[Word], position: int) -> int:
    """The index of the word starting at character ``position`` of :func:`joined`."""
    return joined(words)[:position].count(" ")
