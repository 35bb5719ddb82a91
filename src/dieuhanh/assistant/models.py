"""Conversations with the assistant: one row per conversation, kept server-side and scoped to the
account that started it. Only the last query is kept as context (bounded whatever the length of
the conversation); every question and answer reaches the audit log as a change of this row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dieuhanh.core.db.base import Base, JSONType, UTCDateTime, utcnow


class Conversation(Base):
    __tablename__ = "assistant_conversations"
    __table_args__ = (Index("ix_assistant_conversations_user", "user_id", "updated_at"),)
    __audited__ = True

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    turns: Mapped[int] = mapped_column(Integer, default=0)
    last_question: Mapped[str] = mapped_column(Text, default="")
    last_answer: Mapped[str] = mapped_column(Text, default="")
    # The last query understood, for follow-ups ("còn xã Lộc Quang?"); None before the first.
    context: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def audit_unit_id(self) -> int:
        return self.unit_id

    @property
    def audit_label(self) -> str:
        return f"assistant conversation {self.id[:8]} ({self.username})"
