"""HTTPS as the application sees it: trusted proxies, Secure cookies, HSTS.

Behind a TLS-terminating proxy the application receives plain HTTP; only a proxy listed in
``auth.trusted_proxies`` may say, with ``X-Forwarded-Proto`` and ``X-Forwarded-For``, that the
browser used HTTPS and from which address. Uvicorn's proxy-headers middleware does the
rewriting (in the application, so it holds whatever server runs it); everything here then reads
``request.url.scheme`` and ``request.client``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from dieuhanh.core.config import AuthSettings
from dieuhanh.core.runtime import Runtime


def install_proxy_headers(app: FastAPI, settings: AuthSettings) -> None:
    """Call after every other middleware: the rewrite must happen before any of them reads."""
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))


def is_https(request: Request) -> bool:
    return request.url.scheme in ("https", "wss")


def secure_cookies(request: Request) -> bool:
    """Cookies are Secure on HTTPS requests, and always when the configuration says so."""
    runtime: Runtime = request.app.state.runtime
    return runtime.settings.auth.cookie_secure or is_https(request)


def add_hsts(request: Request, response: Response) -> None:
    """Only on HTTPS responses: browsers ignore the header over plain HTTP (RFC 6797 §7.2)."""
    runtime: Runtime = request.app.state.runtime
    seconds = runtime.settings.auth.hsts_seconds
    if seconds and is_https(request):
        response.headers.setdefault("Strict-Transport-Security", f"max-age={seconds}")
