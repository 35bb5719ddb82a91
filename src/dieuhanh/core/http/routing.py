"""Routers for the JSON API. Protected unless declared public: a route cannot forget login."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from dieuhanh.core.http.deps import current_principal
from dieuhanh.core.http.errors import ErrorBody

API_PREFIX = "/api/v1"

_COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Not logged in, or a bad token"},
    403: {"model": ErrorBody, "description": "Not allowed for this account"},
    422: {"model": ErrorBody, "description": "Invalid input; the message names the field"},
}


def api_router(tag: str, *, public: bool = False) -> APIRouter:
    return APIRouter(
        prefix=API_PREFIX,
        tags=[tag],
        dependencies=[] if public else [Depends(current_principal)],
        responses=_COMMON_RESPONSES,
    )
