"""The labelled questions and the reader's exact-query accuracy on them.

Every ``*questions.jsonl`` file of the package is read: ``labelled_questions.jsonl`` (written by
scripts/assistant_questions.py: splits ``dev`` and ``test``), ``dev_questions.jsonl`` (written by
hand from how leaders and officers phrase questions: split ``dev``) and, where someone has written
it, ``heldout_questions.jsonl`` (split ``test2``). The ``test`` and ``test2`` splits are held out:
the reader is never tuned on them, and only their accuracy is reported (bench/assistant.py),
never their misses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from dieuhanh.assistant.parser import understand
from dieuhanh.assistant.vocabulary import Vocabulary

PATTERN = (
    "questions.jsonl"  # labelled_questions.jsonl, dev_questions.jsonl, heldout_questions.jsonl
)
HELD_OUT = ("test", "test2")  # the splits never used to tune the reader
TODAY = date(2026, 4, 15)  # the day the expected periods were written for


@dataclass(frozen=True)
class Labelled:
    question: str
    expected: dict[str, Any]
    split: str  # dev | test | test2
    kind: str
    style: str  # plain, no_diacritics, typo, lower, abbrev, polite, …
    source: str = ""  # the file it comes from


@lru_cache(maxsize=1)
def labelled() -> tuple[Labelled, ...]:
    folder = resources.files("dieuhanh.assistant")
    found: list[Labelled] = []
    names = sorted(f.name for f in folder.iterdir() if f.name.endswith(PATTERN))
    for name in names:
        text = folder.joinpath(name).read_text("utf-8")
        found += [_item(line, name) for line in text.splitlines() if line.strip()]
    return tuple(found)


def _item(line: str, source: str) -> Labelled:
    data = json.loads(line)
    return Labelled(
        data["question"], data["expected"], data["split"], data["kind"], data["style"], source
    )


def splits() -> list[str]:
    """The splits present, development first ("dev", then "test", "test2" when written)."""
    present = {item.split for item in labelled()}
    return sorted(present, key=lambda s: (s in HELD_OUT, s))


def read(item: Labelled, vocabulary: Vocabulary) -> dict[str, Any] | None:
    reading = understand(item.question, vocabulary, today=TODAY, home=vocabulary.province.code)
    return reading.query.key() if reading.query else None


def accuracy(
    vocabulary: Vocabulary, split: str, source: str | None = None
) -> tuple[float, list[tuple[Labelled, Any]]]:
    """(share read exactly right, the misses with what was read); ``source``: one file only."""
    items = [i for i in labelled() if i.split == split and source in (None, i.source)]
    misses = []
    for item in items:
        got = read(item, vocabulary)
        if got != item.expected:
            misses.append((item, got))
    return 1 - len(misses) / len(items), misses
