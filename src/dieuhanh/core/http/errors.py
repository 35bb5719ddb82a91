"""Every API error is JSON ``{"error": {"code", "message"}}`` with the matching HTTP status."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from dieuhanh.core.db.busy import DatabaseBusy, is_busy, retry_after
from dieuhanh.core.errors import DieuhanhError

log = logging.getLogger(__name__)

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    error.update({k: v for k, v in extra.items() if k != "headers" and v is not None})
    return JSONResponse({"error": error}, status_code=status, headers=extra.get("headers"))


def is_api(request: Request) -> bool:
    """JSON errors for the API and the gateway's HTTP endpoints; pages get HTML."""
    return request.url.path.startswith(("/api/", "/gw/"))


def install(app: FastAPI, page_error: Callable[..., Awaitable[Response]]) -> None:
    """``page_error(request, exc)`` renders errors of HTML pages (the web shell provides it)."""

    @app.exception_handler(DieuhanhError)
    async def _dieuhanh_error(request: Request, exc: DieuhanhError) -> Response:
        if not is_api(request):
            return await page_error(request, exc)
        return error_response(
            exc.status, exc.code, exc.message, details=exc.details, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"field": ".".join(str(p) for p in err["loc"] if p != "body"), "message": err["msg"]}
            for err in exc.errors()
        ]
        message = "; ".join(f"{d['field'] or 'body'}: {d['message']}" for d in details[:5])
        return error_response(422, "invalid_input", message or "Invalid input.", details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not is_api(request):
            return await page_error(request, DieuhanhError(str(exc.detail)), status=exc.status_code)
        code = STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code
        if exc.status_code == 404 and message == "Not Found":
            message = f"No API endpoint {request.method} {request.url.path}."
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}."
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(sa_exc.DBAPIError)
    @app.exception_handler(sa_exc.TimeoutError)
    async def _database_error(request: Request, exc: Exception) -> Response:
        if is_busy(exc):
            settings = request.app.state.runtime.settings
            busy = DatabaseBusy(retry_after(settings.database.lock_timeout_seconds))
            log.warning(
                "database busy in %s %s: %s", request.method, request.url.path, type(exc).__name__
            )
            return await _dieuhanh_error(request, busy)
        if not (isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated):
            return await _unexpected(request, exc)
        # The server ended the connection (restart, failover, pg_terminate_backend): an open
        # transaction dies with it, so what this request changed was rolled back (unless the loss
        # hit the COMMIT itself, hence "not confirmed"). The pool has dropped the connection;
        # the next request gets a fresh one. Not a 500: the person can act — send it again.
        log.error(
            "database connection lost in %s %s: %s",
            request.method,
            request.url.path,
            str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__,
        )
        message = (
            "The connection to the database was lost while handling this request, before its "
            "changes were confirmed. Send it again."
        )
        if not is_api(request):
            return await page_error(request, DieuhanhError(message), status=503)
        return error_response(503, "database_unavailable", message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        request_id = getattr(request.state, "request_id", "-")
        log.exception(
            "unhandled error in %s %s (request %s)", request.method, request.url.path, request_id
        )
        message = f"Internal error; quote reference {request_id} to the administrator."
        if not is_api(request):
            return await page_error(request, DieuhanhError(message), status=500)
        return error_response(500, "internal_error", message)
