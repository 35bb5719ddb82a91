"""The category suggestion, offline: a report's words (underthesea's word segmentation, then
folded to accent-free ASCII, so "den duong hu" and "đèn đường hư" are the same words) into a
TF-IDF + linear SVM (``underthesea_core.TextClassifier``, in Rust), trained on the labelled
reports shipped beside this file (``labelled_reports.jsonl``, its ``train`` part) and on the
categories staff confirmed (:func:`retrain`). Nothing is downloaded: underthesea's segmenter
ships inside its wheel.

The ``test`` part of the labelled set is never trained on: :func:`held_out_accuracy` measures
the classifier on it (tests/citizen/test_classifier.py prints it; the goal is ≥ 85 %).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from dieuhanh.core.text import fold

LABELLED = "labelled_reports.jsonl"
# Below this, the suggestion is shown as a guess to confirm, not preselected.
CONFIDENT = 0.5


@dataclass(frozen=True)
class Labelled:
    text: str
    category: str
    split: str  # train | test


def labelled() -> list[Labelled]:
    folder = resources.files("dieuhanh.citizen.classifier")
    lines = folder.joinpath(LABELLED).read_text("utf-8").splitlines()
    return [Labelled(**json.loads(line)) for line in lines if line.strip()]


_TOKENIZER_LOAD = threading.Lock()


@lru_cache(maxsize=1)
def _tokenizer() -> Callable[[str], list[str]]:
    """underthesea's word segmentation, its model loaded once by one thread: it loads lazily on
    the first call, and a second thread calling meanwhile found it half-loaded (``featurizer`` still
    None) — a report filed while the classifier retrained in the background failed that way."""
    from underthesea import word_tokenize

    with _TOKENIZER_LOAD:
        word_tokenize("khởi động")
    return word_tokenize  # type: ignore[no-any-return]


def words(text: str) -> str:
    """The text as the classifier sees it: its segmented words (a word of several syllables
    joined by "_") and its syllables, all folded. Chosen by 5-fold cross-validation on the train
    part (accuracy): words and syllables 0.824, syllables alone 0.817, words alone 0.769;
    unigrams and bigrams, C = 1 (trigrams 0.774, C = 0.5 or 2 no better)."""
    text = text[:2000]
    tokens = _tokenizer()(text)
    segmented = " ".join(fold(token).replace(" ", "_") for token in tokens if fold(token))
    return f"{segmented} {fold(text)}"


class Classifier:
    def __init__(self, examples: Iterable[tuple[str, str]]) -> None:
        from underthesea_core import TextClassifier

        pairs = list(examples)
        self.model = TextClassifier(ngram_range=(1, 2), c=1.0)
        self.model.fit([words(text) for text, _ in pairs], [label for _, label in pairs])

    def suggest(self, text: str) -> tuple[str, float]:
        label, score = self.model.predict_with_score(words(text))
        return str(label), round(float(score), 3)


# The model in use, replaced whole by a retraining: readers never wait for a training (which
# runs beside them, in the background), and never see a half-trained model.
_MODEL: dict[str, Classifier] = {}
_SWAP = threading.Lock()


@lru_cache(maxsize=1)
def _shipped() -> tuple[tuple[str, str], ...]:
    return tuple((item.text, item.category) for item in labelled() if item.split == "train")


def _current() -> Classifier:
    model = _MODEL.get("current")
    if model is None:
        with _SWAP:
            model = _MODEL.get("current")
            if model is None:
                model = _MODEL["current"] = Classifier(_shipped())
    return model


def suggest(text: str) -> tuple[str, float] | None:
    """(category code, confidence) for a report's description; None for an empty one."""
    if not text or not text.strip():
        return None
    return _current().suggest(text)


def retrain(corrections: Iterable[tuple[str, str]]) -> int:
    """Train again with the categories staff confirmed or corrected, (text, category) pairs;
    the new model replaces the old one when it is ready."""
    extra = list(corrections)
    model = Classifier([*_shipped(), *extra])
    with _SWAP:
        _MODEL["current"] = model
    return len(extra)


def held_out_accuracy() -> tuple[float, int, dict[str, tuple[int, int]]]:
    """Accuracy on the held-out part: (share right, how many, per category (right, of))."""
    classifier = Classifier(
        (item.text, item.category) for item in labelled() if item.split == "train"
    )
    per: dict[str, tuple[int, int]] = {}
    right = total = 0
    for item in labelled():
        if item.split != "test":
            continue
        hit = classifier.suggest(item.text)[0] == item.category
        got, seen = per.get(item.category, (0, 0))
        per[item.category] = (got + hit, seen + 1)
        right, total = right + hit, total + 1
    return (right / total if total else 0.0), total, per
