"""The HTTP session every HTTP source (REST API, web page) is fetched with: dlt's retrying
session, guarded.

dlt's ``Client`` retries 429, 5xx and connection errors with exponential backoff and honours
Retry-After. Under it sits our adapter, which before each request (next-page links included)
checks the host against ``datahub.allowed_networks`` and keeps the request on the source's own
origin (a next link elsewhere would carry the source's token to another host), and which reads
the body with a cap so that a runaway response costs bounded memory.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from dieuhanh.core.config import DatahubSettings
from dieuhanh.core.network import NetworkPolicy, NetworkRefused, resolve

CHUNK = 64 * 1024


class RequestRefused(Exception):
    """The request was not sent (policy, origin) or its answer was refused (too large)."""


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


class GuardedAdapter(HTTPAdapter):
    def __init__(self, policy: NetworkPolicy, allowed_origin: str, max_bytes: int) -> None:
        super().__init__()
        self.policy, self.max_bytes = policy, max_bytes
        self.origin = origin(allowed_origin)

    def send(  # type: ignore[override]
        self, request: PreparedRequest, stream: bool = False, **kwargs: Any
    ) -> Response:
        url = request.url or ""
        if origin(url) != self.origin:
            raise RequestRefused(
                f"{_without_query(url)} is not on the source's own host "
                f"({self.origin[0]}://{self.origin[1]}:{self.origin[2]}); it is not fetched"
            )
        host = self.origin[1]
        try:
            self.policy.check(host, resolve(host, self.origin[2]))
        except NetworkRefused as exc:
            raise RequestRefused(exc.message) from None
        except OSError:
            pass  # a name that does not resolve: the connection error says so, and is retried
        response = super().send(request, stream=True, **kwargs)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response.close()
            raise RequestRefused(self._too_large(url))
        body = bytearray()
        for chunk in response.iter_content(CHUNK):
            body += chunk
            if len(body) > self.max_bytes:
                response.close()
                raise RequestRefused(self._too_large(url))
        response._content = bytes(body)  # what Response.content returns from now on
        response._content_consumed = True
        return response

    def _too_large(self, url: str) -> str:
        return (
            f"{_without_query(url)} answered more than {self.max_bytes} bytes "
            "(datahub.max_response_bytes)"
        )


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}{parts.path}"


def guarded_session(policy: NetworkPolicy, base_url: str, settings: DatahubSettings) -> Any:
    """A requests session with dlt's retries over the guarded adapter, bounded by the data
    hub's settings; no proxies from the environment (a loopback or LGSP address must not be
    sent through an HTTP_PROXY)."""
    from dlt.sources.helpers.requests.retry import Client

    client = Client(
        request_timeout=settings.request_timeout_seconds,
        raise_for_status=False,
        request_max_attempts=settings.request_attempts,
        request_backoff_factor=0.5,
        request_max_retry_delay=settings.request_max_delay_seconds,
        session_attrs={"trust_env": False},
    )
    session = client.session
    adapter = GuardedAdapter(policy, base_url, settings.max_response_bytes)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def http_url(value: str) -> str:
    """A source's URL: http(s), with a host, and no credentials in it (they belong in the
    source's auth, as references to the server's environment)."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise ValueError("must not carry a user name or password; use the source's auth")
    return value


def http_failure(exc: Exception, url: str, settings: DatahubSettings) -> str:
    """What went wrong with a request, for a person (``url`` already scrubbed of secrets).
    requests' JSONDecodeError is a RequestException too: it is told apart first."""
    import requests

    attempts = f"{settings.request_attempts} attempt(s)"
    if isinstance(exc, RequestRefused):
        return str(exc)
    if isinstance(exc, requests.JSONDecodeError):
        return f"{url} did not answer JSON ({exc})"
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        return f"{url} answered HTTP {status} after {attempts}"
    if isinstance(exc, requests.Timeout):
        return f"{url} did not answer within {settings.request_timeout_seconds:g} s ({attempts})"
    if isinstance(exc, requests.ConnectionError):
        return f"cannot connect to {url}: {_reason(exc)}"
    return f"{url}: {type(exc).__name__}: {str(exc)[:200]}"


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out"):
        if marker in text:
            return marker
    return text[:200]
