"""The session cookie, set Secure over HTTPS (the kernel's ``core.http.transport`` decides)."""

from __future__ import annotations

from fastapi import Request, Response

from dieuhanh.auth.principal import SESSION_COOKIE
from dieuhanh.core.http.transport import secure_cookies
from dieuhanh.core.runtime import Runtime


def set_session_cookie(request: Request, response: Response, cookie: str) -> None:
    runtime: Runtime = request.app.state.runtime
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(runtime.settings.auth.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
