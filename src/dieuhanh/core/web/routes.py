"""Routes of the shell itself: static files and the language switch."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from dieuhanh.core.http.transport import secure_cookies
from dieuhanh.core.web.i18n import LANGUAGES
from dieuhanh.core.web.shell import LANG_COOKIE, safe_next

router = APIRouter(include_in_schema=False)
ONE_YEAR = 365 * 24 * 3600


def static_files(packages: Iterable[str] = ()) -> StaticFiles:
    """The shell's files, then each capability's ``static/`` folder, all under ``/static/``."""
    return StaticFiles(
        packages=[("dieuhanh.core.web", "static"), *((p, "static") for p in packages)]
    )


@router.get("/lang/{language}")
def switch_language(language: str, request: Request, next: str | None = None) -> RedirectResponse:
    response = RedirectResponse(
        safe_next(next or request.headers.get("referer-path")), status_code=303
    )
    if language in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            language,
            max_age=ONE_YEAR,
            samesite="lax",
            httponly=True,
            secure=secure_cookies(request),
        )
    return response
