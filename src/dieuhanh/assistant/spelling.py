"""Typos corrected by the company a word keeps, offline.

A question's words are checked against what the assistant knows: the words of its names and
cue phrases, and which word follows which in them (*quá hạn*, *văn bản*, *tháng 3*, *xã Lộc*).
Two kinds of slip are fixed:

- a word that is no Vietnamese word at all (*thnág*, *hnạ*, *trực tuyếm*): the known words
  one edit away (a letter added, dropped, changed or two swapped), or difflib's ratio ≥ 0.8,
  the one that fits its neighbours first, then the one written most like what was typed;
- a real word out of place (*quá hạng*, *văn bảng*, *táng 10*, *phưng Trảng Dài*): replaced
  only when it fits neither neighbour, in our phrases or as a Vietnamese compound, and a word
  one edit away fits one of our names or periods — so *hạng* stays in *xếp hạng*, and function
  words (*của*, *có*, *tháng*), our acronyms (*CPI*) and one-word cues (*hỏng*) are never
  touched.

What is a Vietnamese word comes from the dictionary inside underthesea's wheel (Viet74K; read
once, offline). Numbers are never touched.
"""

from __future__ import annotations

import difflib
import importlib.util
import itertools
import logging
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from dieuhanh.assistant.words import KEYWORDS, Word, word_set
from dieuhanh.core.text import fold

log = logging.getLogger(__name__)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Function words a question is full of: real words, never re-spelled to fit a neighbour.
KEEP = word_set(
    """
    cua va co la thi o tai trong cho duoc da dang se cac nhung nay do den tu voi ve theo nao gi
    bao nhieu minh toi anh chi em oi nhe giup xin hoi biet xem muon can nho hay khong chua roi
    vay the sao ra len xuong bi lam dat hien nay hom qua nua ma neu khi cung rat hon
    thang quy nam tuan ngay nhat cao thap nhieu voi cung ky top xa phuong tinh don vi
    """
)


@dataclass(frozen=True)
class Lexicon:
    """The words the assistant knows, which word follows which in its phrases (``pairs``), and
    in its names and period expressions only (``strong``: what a real word may be re-spelled
    to fit — the cue phrases are too short and common to justify it)."""

    known: frozenset[str]
    pairs: frozenset[tuple[str, str]]
    strong: frozenset[tuple[str, str]] = frozenset()
    marked: Mapping[str, frozenset[str]] = field(default_factory=dict)  # "trang" → {"trảng"}
    single: frozenset[str] = frozenset()  # cues of one word ("hỏng", "chậm"): never re-spelled

    def fits(self, before: str, word: str, after: str, strong: bool = False) -> bool:
        pairs = self.strong if strong else self.pairs
        return (_key(before), word) in pairs or (word, _key(after)) in pairs


def lexicon(
    names: Iterable[str], cues: Collection[str] = (), written: Iterable[str] = ()
) -> Lexicon:
    """``names``: the vocabulary's names and the period expressions; ``cues``: the rest;
    ``written``: names as written, with their marks (to choose between two corrections)."""
    known: set[str] = set(KEYWORDS)
    strong = _pairs(names, known)
    pairs = strong | _pairs(cues, known)
    marked: dict[str, set[str]] = {}
    for name in written:
        for word in unicodedata.normalize("NFC", name).lower().split():
            marked.setdefault(fold(word), set()).add(word)
    frozen = {k: frozenset(v) for k, v in marked.items()}
    single = frozenset(p for p in cues if " " not in p)
    return Lexicon(frozenset(known), frozenset(pairs), frozenset(strong), frozen, single)


def _pairs(phrases: Iterable[str], known: set[str]) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for phrase in phrases:
        words = [_key(w) for w in phrase.split()]
        known.update(w for w in words if w != "#")
        pairs.update(itertools.pairwise(words))
    return pairs


def _key(word: str) -> str:
    return "#" if word.isdigit() else word


# A question is a few dozen words; past these, words are read as typed (a pasted document or
# a 1,000-letter "word" must not cost seconds of spelling candidates).
MAX_WORDS = 60
MAX_LETTERS = 15


def correct(words: list[Word], lexicon: Lexicon) -> list[Word]:
    fixed: list[Word] = []
    for index, word in enumerate(words):
        if index >= MAX_WORDS or len(word.folded) > MAX_LETTERS:
            fixed.append(word)
            continue
        before = fixed[-1] if fixed else None
        after = words[index + 1] if index + 1 < len(words) else None
        better = _better(word, before, after, lexicon)
        fixed.append(Word(better, word.original, word.start, word.end) if better else word)
    return fixed


def _better(word: Word, before: Word | None, after: Word | None, lexicon: Lexicon) -> str | None:
    text = word.folded
    if len(text) < 3 or text.isdigit() or text in KEEP:
        return None
    if text in lexicon.known and text not in syllables() and text not in KEYWORDS:
        return None  # an acronym or code of ours ("cpi", "online"): never a slip
    if text in lexicon.known or text in syllables():
        return _out_of_place(word, before, after, lexicon)
    return _typo(word, before, after, lexicon)


def _out_of_place(
    word: Word, before: Word | None, after: Word | None, lexicon: Lexicon
) -> str | None:
    """A real word: left alone where it fits a neighbour (in our phrases or as a Vietnamese
    compound) or is a cue of its own; else re-spelled only to fit one of our names or periods."""
    prev, next_ = before.folded if before else "", after.folded if after else ""
    if word.folded in lexicon.single or lexicon.fits(prev, word.folded, next_):
        return None
    if compound(before, word) or compound(word, after):
        return None
    close = _close(word.folded, lexicon)
    return _first([w for w in close if lexicon.fits(prev, w, next_, strong=True)], word, lexicon)


def _typo(word: Word, before: Word | None, after: Word | None, lexicon: Lexicon) -> str | None:
    """No word at all: the close known word that fits a neighbour, else the closest."""
    prev, next_ = before.folded if before else "", after.folded if after else ""
    text = word.folded
    close = _close(text, lexicon)
    fitting = [w for w in close if lexicon.fits(prev, w, next_)]
    if not fitting:
        similar = difflib.get_close_matches(text, _near(lexicon.known, len(text)), 5, 0.8)
        fitting = [w for w in similar if lexicon.fits(prev, w, next_)]
    if fitting:
        return _first(fitting, word, lexicon)
    # Nothing fits: the question's own words (tháng, quý, nhất…) first, so that on a tie
    # "thnag" is "thang", not the "thanh" of a unit name.
    keywords = difflib.get_close_matches(text, _near(KEYWORDS, len(text)), 1, 0.8)
    others = difflib.get_close_matches(text, _near(lexicon.known, len(text)), 1, 0.8)
    return _first(keywords or close or others, word, lexicon)


def _close(text: str, lexicon: Lexicon) -> list[str]:
    """The known words (of 3 letters or more) one edit away."""
    return [w for w in _one_edit(text) if w in lexicon.known and len(w) >= 3]


def compound(first: Word | None, second: Word | None) -> bool:
    """Two words that make a Vietnamese word ("địa bàn", "cập nhật"), as typed: folded when
    both were typed without marks, else with their marks ("đung hanh" is no "dung hạnh")."""
    if first is None or second is None:
        return False
    if first.original.isascii() and second.original.isascii():
        return (first.folded, second.folded) in compounds()[0]
    return (first.original, second.original) in compounds()[1]


def _first(candidates: list[str], typed: Word, lexicon: Lexicon) -> str | None:
    """The candidate written most like what was typed, marks included ("tảng" is "trảng",
    not "tổng"); then question words before names, then the alphabet."""
    if not candidates:
        return None

    def likeness(candidate: str) -> float:
        forms = lexicon.marked.get(candidate, frozenset())
        ratios = [difflib.SequenceMatcher(None, typed.original, f).ratio() for f in forms]
        return max(ratios, default=0.0)

    marks = not typed.original.isascii()
    return sorted(
        set(candidates), key=lambda w: (-likeness(w) if marks else 0.0, w not in KEYWORDS, w)
    )[0]


def _one_edit(word: str) -> set[str]:
    """Every string one edit away: a letter dropped, swapped with the next, changed, added."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    dropped = {a + b[1:] for a, b in splits if b}
    swapped = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changed = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    added = {a + c + b for a, b in splits for c in _LETTERS}
    return (dropped | swapped | changed | added) - {word}


@lru_cache(maxsize=64)
def _by_length(vocabulary: frozenset[str]) -> dict[int, tuple[str, ...]]:
    groups: dict[int, list[str]] = {}
    for item in vocabulary:
        groups.setdefault(len(item), []).append(item)
    return {length: tuple(sorted(items)) for length, items in groups.items()}


def _near(vocabulary: frozenset[str], length: int) -> list[str]:
    groups = _by_length(vocabulary)
    return [w for n in range(length - 1, length + 2) for w in groups.get(n, ())]


def syllables() -> frozenset[str]:
    """Every Vietnamese syllable, folded."""
    return _dictionary()[0]


def compounds() -> tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
    """Syllables that follow each other inside a Vietnamese word: folded, and as written."""
    return _dictionary()[1], _dictionary()[2]


@lru_cache(maxsize=1)
def _dictionary() -> tuple[frozenset[str], frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
    """The dictionary inside underthesea's wheel (Viet74K: one word a line), read once."""
    spec = importlib.util.find_spec("underthesea")
    for folder in list(spec.submodule_search_locations or []) if spec else []:
        try:
            lines = (Path(folder) / "corpus" / "data" / "Viet74K.txt").read_text("utf-8")
        except OSError:
            continue
        written = [
            line.lower().split() for line in unicodedata.normalize("NFC", lines).splitlines()
        ]
        folded = [fold(" ".join(words)).split() for words in written]
        return (
            frozenset(w for words in folded for w in words),
            frozenset(p for words in folded for p in itertools.pairwise(words)),
            frozenset(p for words in written for p in itertools.pairwise(words)),
        )
    # Without it, every word not in the vocabulary is taken for a typo, as before.
    log.warning("underthesea's dictionary is unavailable: typos judged by the vocabulary only")
    return frozenset(), frozenset(), frozenset()
