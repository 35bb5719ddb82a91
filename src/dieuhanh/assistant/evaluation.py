"""The labelled questions (``labelled_questions.jsonl``, written by
scripts/assistant_questions.py) and the reader's exact-query accuracy on them. The ``test``
split is held out: the reader was never tuned on it (bench/assistant.py reports it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from dieuhanh.assistant.parser import understand
from dieuhanh.assistant.vocabulary import Vocabulary

LABELLED = "labelled_questions.jsonl"
TODAY = date(2026, 4, 15)  # the day the expected periods were written for


@dataclass(frozen=True)
class Labelled:
    question: str
    expected: dict[str, Any]
    split: str  # dev | test
    kind: str
    style: str  # plain, no_diacritics, typo, lower


@lru_cache(maxsize=1)
def labelled() -> tuple[Labelled, ...]:
    text = resources.files("dieuhanh.assistant").joinpath(LABELLED).read_text("utf-8")
    return tuple(Labelled(**json.loads(line)) for line in text.splitlines() if line.strip())


def read(item: Labelled, vocabulary: Vocabulary) -> dict[str, Any] | None:
    reading = understand(item.question, vocabulary, today=TODAY, home=vocabulary.province.code)
    return reading.query.key() if reading.query else None


def accuracy(vocabulary: Vocabulary, split: str) -> tuple[float, list[tuple[Labelled, Any]]]:
    """(share read exactly right, the misses with what was read)."""
    items = [item for item in labelled() if item.split == split]
    misses = []
    for item in items:
        got = read(item, vocabulary)
        if got != item.expected:
            misses.append((item, got))
    return 1 - len(misses) / len(items), misses
