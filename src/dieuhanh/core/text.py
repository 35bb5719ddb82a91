"""Vietnamese text helpers shared by every search: folding diacritics, unit-name keys, spelling.

Users type without diacritics ("Loc Thanh"), with them ("Lộc Thạnh"), with or without the unit's
prefix ("xa Loc Thanh"), and sources disagree on where the tone mark goes ("Hoà" / "Hòa").
"""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")

# Longest first, so "thanh pho" is stripped before a lone "thanh" could be considered.
UNIT_PREFIXES = (
    "thanh pho truc thuoc trung uong",
    "thanh pho",
    "dac khu",
    "thi tran",
    "thi xa",
    "phuong",
    "huyen",
    "quan",
    "tinh",
    "xa",
)

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền sắc ngã hỏi nặng


def fold(text: str) -> str:
    """Lower-case ASCII words: diacritics removed, đ → d, punctuation collapsed to one space."""
    if text.isascii():  # codes, numbers, times: nothing to decompose (the same result, faster)
        return _NON_ALNUM.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", stripped.lower()).strip()


def strip_prefix(folded: str) -> tuple[str, str]:
    """Split a folded name into (prefix, rest); the prefix is "" when there is none."""
    for prefix in UNIT_PREFIXES:
        if folded.startswith(prefix + " ") and len(folded) > len(prefix) + 1:
            return prefix, folded[len(prefix) + 1 :]
    return "", folded


def name_key(name: str) -> str:
    """The key a unit name is searched by: folded, without its administrative prefix."""
    return strip_prefix(fold(name))[1]


def canonical_spelling(text: str) -> str:
    """NFC text with the tone mark placed the modern way (hòa, thủy), whitespace collapsed.

    The two conventions differ only in open syllables ending in -oa, -oe, -uy: the old style puts
    the mark on the last vowel (hoà, thuỷ), the new one on the first (hòa, thủy). "qu" is a
    consonant, so "quả", "quý" are the same in both.
    """
    words = [_modern_tone(word) for word in text.split()]
    return unicodedata.normalize("NFC", " ".join(words))


def _modern_tone(word: str) -> str:
    chars = list(unicodedata.normalize("NFD", word))
    # Split into (base letter, marks) clusters.
    clusters: list[list[str]] = []
    for ch in chars:
        if unicodedata.combining(ch) and clusters:
            clusters[-1].append(ch)
        else:
            clusters.append([ch])
    if len(clusters) < 2:
        return word
    first, last = clusters[-2], clusters[-1]
    pair = (first[0].lower(), last[0].lower())
    if pair not in {("o", "a"), ("o", "e"), ("u", "y")}:
        return word
    if len(clusters) >= 3 and clusters[-3][0].lower() == "q":
        return word
    tone = [mark for mark in last[1:] if mark in _TONE_MARKS]
    if not tone or any(mark in _TONE_MARKS for mark in first[1:]):
        return word
    last[1:] = [mark for mark in last[1:] if mark not in _TONE_MARKS]
    first.extend(tone)
    return unicodedata.normalize("NFC", "".join("".join(c) for c in clusters))


def like_pattern(text: str) -> str:
    """A SQL LIKE pattern matching ``text`` anywhere, with LIKE's own wildcards escaped by '\\'."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def size_text(size: int) -> str:
    """1 MB, 2.5 MB, 512 KB: how a size limit is named in messages."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{size / 1024:.3g} KB"
