"""HTTP API of the assistant: ``POST /api/v1/assistant/ask``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from dieuhanh.assistant.service import ask
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.runtime import Runtime

router = api_router("assistant")
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Longer questions are refused with a message by the service (the field accepts a little
    # more, so a pasted page gets that clear message rather than a validation error).
    question: str = Field(max_length=20_000, description="The question, in Vietnamese.")
    conversation_id: str | None = Field(
        default=None,
        max_length=64,
        description="The conversation this question follows (from an earlier answer).",
    )


@router.post(
    "/assistant/ask",
    summary="Ask the assistant a question in Vietnamese",
    description="Returns `{answer, figures: [{indicator, unit, period, value, …}], queries, "
    "conversation_id, clarify: [{label, question}], links, chart, source, notes}`. Every figure "
    "comes from the product's own queries (the analytics API's for indicators) within the "
    "caller's unit scope; `clarify` lists the choices when the question is ambiguous.",
)
def ask_question(
    body: Question, db: Db, principal: CurrentPrincipal, runtime: RuntimeDep
) -> dict[str, Any]:
    return ask(db, runtime, principal, body.question, body.conversation_id)
