"""The assistant's section of the daily briefing ("Tình hình nổi bật", issue 14 part 4): the
sentences of "Tóm tắt tình hình" (:func:`dieuhanh.assistant.briefing.situation`, the chat's own
code) for the briefing's unit and day, in the recipient's scope — the province's for its
leader, a commune's for its officer — each with the query that gave it and where to check it.
Contributed to ``core.briefing_sections``; the alerts capability sends it at 7:00."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from dieuhanh.assistant.briefing import situation
from dieuhanh.assistant.service import VOCABULARIES, Helper, Reply
from dieuhanh.core.briefing import BriefingFor, BriefingSection, SectionContributor, Sentence
from dieuhanh.core.runtime import Runtime

TITLE = "Tình hình nổi bật"


def section(session: Session, runtime: Runtime, asked: BriefingFor) -> BriefingSection | None:
    vocabulary = VOCABULARIES.get(session, runtime)
    helper = Helper(session, runtime, asked.principal, vocabulary, asked.day, asked.now)
    said = situation(helper, asked.unit_code)
    sentences = tuple(_sentence(text, reply) for text, reply in said if reply.links)
    return BriefingSection(TITLE, sentences) if sentences else None


def _sentence(text: str, reply: Reply) -> Sentence:
    query: dict[str, Any] = reply.queries[0] if reply.queries else {}
    data = next((link["href"] for link in reply.links if link["href"].startswith("/api/")), None)
    return Sentence(text, reply.links[0]["href"], str(query.get("text", "")), data)


CONTRIBUTOR = SectionContributor("assistant.situation", section)
