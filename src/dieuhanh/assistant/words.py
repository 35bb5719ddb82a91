"""A question as words: each word's original spelling (for display, and to tell Lộc Thạnh from
Lộc Thành) and its folded form (for matching), abbreviations expanded and typos corrected
against the words the assistant knows."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from dieuhanh.core.text import fold


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WORD = re.compile(r"\w+")
# Words a question is made of besides names: operations, periods, units' prefixes. Typos are
# corrected towards these and the vocabulary's words, never towards a number.
KEYWORDS = _words(
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
    """
)


@dataclass(frozen=True)
class Word:
    folded: str
    original: str  # as typed, NFC and lower-case
    start: int  # character span in the question
    end: int


def split_words(question: str, abbreviations: dict[str, str]) -> list[Word]:
    text = unicodedata.normalize("NFC", question)
    words: list[Word] = []
    for match in _WORD.finditer(text):
        original = match.group().lower()
        folded = fold(original).replace(" ", "")
        if not folded:
            continue
        expansion = abbreviations.get(folded)
        for part in expansion.split() if expansion else [folded]:
            words.append(Word(part, original, match.start(), match.end()))
    return words


def correct(words: list[Word], known: frozenset[str]) -> list[Word]:
    """Each unknown word of 3 letters or more replaced by the closest known one (difflib's
    ratio ≥ 0.8: "nhieu" for "nhiu", "phuong" for "phuog"); numbers are never touched."""
    vocabulary = known | KEYWORDS
    fixed = []
    for word in words:
        text = word.folded
        if len(text) >= 3 and not text.isdigit() and text not in vocabulary:
            # The question's own words (tháng, quý, nhất…) first: on a tie, "thnag" is "thang",
            # not the "thanh" of a unit name.
            match = difflib.get_close_matches(text, _near(KEYWORDS, len(text)), 1, 0.8)
            match = match or difflib.get_close_matches(text, _near(vocabulary, len(text)), 1, 0.8)
            if match:
                word = Word(match[0], word.original, word.start, word.end)
        fixed.append(word)
    return fixed


@lru_cache(maxsize=64)
def _by_length(vocabulary: frozenset[str]) -> dict[int, tuple[str, ...]]:
    groups: dict[int, list[str]] = {}
    for item in vocabulary:
        groups.setdefault(len(item), []).append(item)
    return {length: tuple(sorted(items)) for length, items in groups.items()}


def _near(vocabulary: frozenset[str], length: int) -> Iterable[str]:
    groups = _by_length(vocabulary)
    return [w for n in range(length - 1, length + 2) for w in groups.get(n, ())]


def joined(words: list[Word]) -> str:
    return " ".join(w.folded for w in words)


def word_index(words: list[Word], position: int) -> int:
    """The index of the word starting at character ``position`` of :func:`joined`."""
    return joined(words)[:position].count(" ")
