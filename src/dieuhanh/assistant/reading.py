"""What the parts of the reader share: the question, its words, the folded text and the spans
of it already read, so that a word read as a unit is not also read as an indicator."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from dieuhanh.assistant import cues
from dieuhanh.assistant.query import Query
from dieuhanh.assistant.vocabulary import Place, Vocabulary
from dieuhanh.assistant.words import Word


@dataclass(frozen=True)
class Choice:
    label: str
    question: str  # the question to ask instead (sent back as is when the choice is clicked)


@dataclass
class Understanding:
    query: Query | None = None
    clarify: list[Choice] = field(default_factory=list)
    problem: str | None = None  # why there is no query
    places: list[Place] = field(default_factory=list)  # the units named, as matched


class Reading:
    def __init__(
        self,
        question: str,
        words: list[Word],
        vocabulary: Vocabulary,
        today: date,
        home: str,
        previous: Query | None,
    ) -> None:
        self.question = question
        self.words = words
        self.text = " ".join(w.folded for w in words)
        self.vocabulary = vocabulary
        self.today = today
        self.home = home
        self.previous = previous
        self.used: list[tuple[int, int]] = []  # character spans of ``text`` already read
        self.by_meaning: Callable[[str], tuple[str, float] | None] | None = None
        self.notes: list[str] = []

    def has(self, phrases: list[str]) -> re.Match[str] | None:
        return cues.find(self.text, phrases)

    def has_free(self, phrases: list[str]) -> re.Match[str] | None:
        """A phrase in words no other reading took ("lợi" of Tân Lợi is not a fault)."""
        found = [
            m
            for p in phrases
            for m in cues.pattern(p).finditer(self.text)
            if self.free(m.start(), m.end())
        ]
        return min(found, key=lambda m: (m.start(), -len(m.group()))) if found else None

    def take(self, match: re.Match[str] | None) -> re.Match[str] | None:
        if match is not None:
            self.used.append((match.start(), match.end()))
        return match

    def free(self, start: int, end: int) -> bool:
        return all(end <= s or e <= start for s, e in self.used)

    def starts(self) -> list[int]:
        """Where each word starts in ``text``."""
        positions, position = [], 0
        for word in self.words:
            positions.append(position)
            position += len(word.folded) + 1
        return positions

    def word_at(self, position: int) -> int:
        """The index of the word starting at (or holding) character ``position`` of ``text``."""
        return self.text[:position].count(" ")
