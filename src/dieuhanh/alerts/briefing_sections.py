"""The sections other capabilities contribute to the daily briefing (``core.briefing_sections``;
the assistant's "Tình hình nổi bật"), gathered for the page, the API and the 7:00 e-mail.

A contributor that fails costs its own section only: it runs inside a savepoint (on PostgreSQL
a failed statement would otherwise abort the whole transaction, and with it the send's record),
its failure is logged with its name, and the briefing goes on without it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dieuhanh.core.access import Principal
from dieuhanh.core.briefing import BRIEFING_SECTIONS, BriefingFor, SectionContributor
from dieuhanh.core.runtime import Runtime

log = logging.getLogger(__name__)


def contributed(
    session: Session,
    runtime: Runtime,
    principal: Principal,
    found: dict[str, Any],
    now: datetime,
) -> list[dict[str, Any]]:
    """Each contributor's section for the briefing ``found`` (its unit and day), as plain dicts:
    ``{title, sentences: [{text, link, query, data}]}``."""
    unit = found["unit"]
    day = found["end"].date()
    asked = BriefingFor(principal, unit["code"], unit["name"], day, now)
    sections = []
    for contributor in runtime.extensions.of(BRIEFING_SECTIONS):
        if not isinstance(contributor, SectionContributor):
            continue
        try:
            with session.begin_nested():
                section = contributor.contribute(session, runtime, asked)
        except Exception:  # any failure of another capability's code: its section is left out
            log.exception(
                "daily briefing of %s for %s, %s: section %r left out",
                unit["code"], principal.username, day.isoformat(), contributor.name,
            )  # fmt: skip
            continue
        if section is not None and section.sentences:
            sections.append(asdict(section))
    return sections
