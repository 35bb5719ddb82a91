"""A limit on request bodies, enforced before the body is read (issue #10: an anonymous 50 MB
``PUT /dataValues`` used to be read whole before its 401).

Every body may be up to ``limits.max_body_bytes``. An import route accepts more by depending on a
:class:`~dieuhanh.core.uploads.LargeBody`, which logs the request in first and only then raises the
limit of its request (:func:`allow`) and reads the body: an anonymous import gets its 401 with no
byte of the body read. A declared ``Content-Length`` is judged before the first byte is handed
on; a chunked body is counted as it streams and cut off at the limit.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dieuhanh.core.http.errors import error_response
from dieuhanh.core.text import size_text

SCOPE_KEY = "dieuhanh.body_limit"
DEFAULT_SETTING = "limits.max_body_bytes"


@dataclass
class BodyCounter:
    """Bytes of request bodies handed to the application (what the tests measure)."""

    bytes: int = 0


def allow(request: Request, max_bytes: int) -> None:
    """Let this request's body be up to ``max_bytes``: call only once it is logged in."""
    guard = request.scope.get(SCOPE_KEY)
    if isinstance(guard, _Guard):
        guard.limit, guard.setting = max_bytes, None


class _Refused(Exception):
    """Unwinds the application once the refusal has been sent."""


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, default: int, counter: BodyCounter) -> None:
        self.app = app
        self.default = default
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        guard = _Guard(self, scope, receive, send)
        scope[SCOPE_KEY] = guard
        with contextlib.suppress(_Refused):  # the refusal is already sent
            await self.app(scope, guard.receive, guard.send)


class _Guard:
    """One request: its limit, the bytes handed on so far, whether a response started."""

    def __init__(self, owner: BodyLimitMiddleware, scope: Scope, receive: Receive, send: Send):
        self.owner, self.scope = owner, scope
        self._receive, self._send = receive, send
        self.limit = owner.default
        self.setting: str | None = DEFAULT_SETTING
        self.declared = _content_length(scope)
        self.received = 0
        self.started = self.refused = False

    async def receive(self) -> Message:
        if self.refused:
            raise _Refused
        if self.declared is not None and self.declared > self.limit:
            await self._refuse()  # judged on the header: nothing of the body is read
        message = await self._receive()
        if message["type"] == "http.request":
            size = len(message.get("body", b""))
            if self.received + size > self.limit:
                await self._refuse()
            self.received += size
            self.owner.counter.bytes += size
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return  # the refusal was the response; whatever the app answers after it is dropped
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def _refuse(self) -> None:
        self.refused = True
        if not self.started:
            await self._response()(self.scope, self._receive, self._send)
        raise _Refused

    def _response(self) -> Any:
        where = f"{self.scope['method']} {self.scope['path']}"
        why = f" (setting {self.setting})" if self.setting else ""
        return error_response(
            413,
            "payload_too_large",
            f"The request body is larger than {size_text(self.limit)}, the limit of {where}{why}.",
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None
