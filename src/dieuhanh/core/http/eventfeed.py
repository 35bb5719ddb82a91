"""A page following the event log live, as server-sent events: where it starts (the browser's
``Last-Event-ID`` on a reconnection, else the newest event), a ``ready`` event, then what
``read`` makes of each batch of newer events, polling every ``poll_seconds`` once caught up.
The alerts page and the operations view each follow the log this way; what they read and send
is theirs (``read``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from dieuhanh.core.events import latest_event_id

Message = dict[str, str]  # an SSE event: event, id, data
# (session, the last event id read) → (the last event id read now, messages, more waiting)
Read = Callable[[Session, int], tuple[int, list[Message], bool]]


def event_feed(
    request: Request, sessions: sessionmaker[Session], read: Read, *, poll_seconds: float
) -> EventSourceResponse:
    resume = request.headers.get("last-event-id", "")

    def start() -> int:
        if resume.isdigit():
            return int(resume)
        with sessions() as session:
            return latest_event_id(session)

    def step(after: int) -> tuple[int, list[Message], bool]:
        with sessions() as session:
            return read(session, after)

    async def events() -> AsyncIterator[Message]:
        last = await run_in_threadpool(start)
        yield {"event": "ready", "data": "{}", "id": str(last)}
        while True:
            last, messages, more = await run_in_threadpool(step, last)
            for message in messages:
                yield message
            if not more:
                await asyncio.sleep(poll_seconds)

    return EventSourceResponse(events(), ping=15)
