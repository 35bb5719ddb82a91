"""Conversations kept server-side, per account: a conversation id another account sent is not
found (a new conversation starts), so nobody continues someone else's."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.assistant.models import Conversation
from dieuhanh.assistant.query import Query
from dieuhanh.core.access import Principal

_ID = re.compile(r"[0-9a-f]{32}")
KEPT_CHARACTERS = 4000  # of an answer, in the row (the audit log keeps it as stored)


def open_for(session: Session, principal: Principal, conversation_id: str | None) -> Conversation:
    from dieuhanh.assistant.service import new_conversation_id

    if conversation_id and _ID.fullmatch(conversation_id):
        found = session.scalar(
            select(Conversation).where(
                Conversation.id == conversation_id, Conversation.user_id == principal.user_id
            )
        )
        if found is not None:
            return found
    conversation = Conversation(
        id=new_conversation_id(),
        user_id=principal.user_id,
        username=principal.username,
        unit_id=principal.unit_id,
        turns=0,
        last_question="",
        last_answer="",
    )
    # Added when the answer is recorded: one audit entry per question, holding the question
    # and its answer (added now, a query meanwhile would flush an empty row first).
    return conversation


def context(conversation: Conversation) -> Query | None:
    if not conversation.context:
        return None
    try:
        return Query.from_json(conversation.context)
    except (KeyError, ValueError):
        return None  # a context written by an older version: start afresh


def record(session: Session, conversation: Conversation, question: str, reply: object) -> None:
    from dieuhanh.assistant.service import Reply

    assert isinstance(reply, Reply)
    conversation.turns += 1
    conversation.last_question = question
    conversation.last_answer = reply.answer[:KEPT_CHARACTERS]
    if reply.context is not None:
        conversation.context = reply.context.to_json()
    session.add(conversation)
