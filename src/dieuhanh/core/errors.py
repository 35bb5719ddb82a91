"""Errors a person can act on.

Service code raises these; the API turns them into ``{"error": {"code", "message"}}`` with the
status below, the CLI prints the message and exits with status 2, and pages show the message.
"""

from __future__ import annotations

from typing import Any


class DieuhanhError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details
        self.headers = headers

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


class InvalidInput(DieuhanhError):
    status = 422
    code = "invalid_input"


class NotFound(DieuhanhError):
    status = 404
    code = "not_found"


class Unauthorized(DieuhanhError):
    status = 401
    code = "unauthorized"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(DieuhanhError):
    status = 403
    code = "forbidden"


class Conflict(DieuhanhError):
    status = 409
    code = "conflict"


class Unavailable(DieuhanhError):
    """A part of the system this request needs is not running; retrying later may work."""

    status = 503
    code = "unavailable"


class TooManyRequests(DieuhanhError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after
