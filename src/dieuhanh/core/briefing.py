"""Sections other capabilities add to the daily briefing (issue 14 part 4: the 7:00 e-mail says
in words what moved most), offered by the kernel because the reader (alerts, which owns the
briefing) and the writers (the assistant) live in the same layer and may not import each other.

A capability contributes :class:`SectionContributor` objects to the ``BRIEFING_SECTIONS``
extension point in its manifest; the briefing asks ``runtime.extensions.of(BRIEFING_SECTIONS)``
and calls each for one person (their principal: what they may read) and one unit and day. A
section is plain data — a title and sentences, each with the page where its figure can be
checked — never HTML: the briefing escapes it wherever it shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from dieuhanh.core.access import Principal

if TYPE_CHECKING:
    from dieuhanh.core.runtime import Runtime

BRIEFING_SECTIONS = "core.briefing_sections"


@dataclass(frozen=True)
class BriefingFor:
    """Whose briefing, about which unit (within their scope: checked by the briefing), which day;
    ``now`` is when it is worked out (the state of cameras, alerts… is the state then)."""

    principal: Principal
    unit_code: str
    unit_name: str
    day: date
    now: datetime


@dataclass(frozen=True)
class Sentence:
    text: str
    link: str  # the page of this site where the figure can be checked, e.g. "/indicators/…"
    query: str = ""  # the query that gave it, as an officer reads it back
    data: str | None = None  # the API call returning the same figures, when there is one

    def __post_init__(self) -> None:
        # Links are put under the public address in the e-mail: only a path of this site.
        for link in (self.link, self.data):
            if link is not None and (not link.startswith("/") or link.startswith("//")):
                raise ValueError(f"a briefing link must be a path of this site, not {link!r}")


@dataclass(frozen=True)
class BriefingSection:
    title: str
    sentences: tuple[Sentence, ...]


# (session, runtime, whose briefing) → the section, or None when there is nothing to say.
Contribute = Callable[[Session, "Runtime", BriefingFor], "BriefingSection | None"]


@dataclass(frozen=True)
class SectionContributor:
    name: str  # named in the log when it fails, e.g. "assistant.situation"
    contribute: Contribute
