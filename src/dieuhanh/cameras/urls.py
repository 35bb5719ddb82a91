"""Stream URLs: validation, credentials kept apart, masking for display and logs.

A camera's URL is stored without its user name and password; those are encrypted separately
(cameras.credentials) and put back only in memory, only for the process that opens the stream.
Everything shown to a person or written to a log goes through ``mask`` or ``scrub``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.redact import MASK, mask
from dieuhanh.core.secrets import Credentials

SCHEMES = ("rtsp", "rtsps", "http", "https")
MAX_URL_LENGTH = 500


@dataclass(frozen=True)
class StreamUrl:
    """A validated stream URL without credentials, and the credentials that were in it."""

    url: str
    credentials: Credentials | None
    kind: str  # rtsp, hls, http_flv, mjpeg, http

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""


def parse_stream_url(text: str, field: str = "stream_url") -> StreamUrl:
    text = text.strip()
    if not text:
        raise InvalidInput(f"{field} is empty.", code="invalid_url")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidInput(
            f"{field} is too long: at most {MAX_URL_LENGTH} characters.", code="invalid_url"
        )
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(
            f"{field} is not a valid URL ({exc}): {mask(text)}", code="invalid_url"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise InvalidInput(
            f"{field} uses the scheme '{scheme or '(none)'}'; supported: {', '.join(SCHEMES)}.",
            code="unsupported_scheme",
        )
    if not parts.hostname:
        raise InvalidInput(f"{field} has no host: {mask(text)}", code="invalid_url")
    if any(ch.isspace() for ch in text):
        raise InvalidInput(f"{field} contains spaces: {mask(text)}", code="invalid_url")
    credentials = None
    if parts.username is not None:
        credentials = Credentials(unquote(parts.username), unquote(parts.password or ""))
    host = parts.hostname
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    bare = urlunsplit((scheme, netloc, parts.path, parts.query, ""))
    return StreamUrl(url=bare, credentials=credentials, kind=stream_kind(scheme, parts.path))


DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port: what a password is given for. Two URLs of one origin reach the
    same server the same way; anything else may be another machine."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme)


def shown_origin(url: str) -> str:
    scheme, host, port = origin(url)
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"


def stream_kind(scheme: str, path: str) -> str:
    lowered = path.lower()
    if scheme.startswith("rtsp"):
        return "rtsp"
    if lowered.endswith(".m3u8"):
        return "hls"
    if lowered.endswith(".flv"):
        return "http_flv"
    if "mjpg" in lowered or "mjpeg" in lowered:
        return "mjpeg"
    return "http"


def with_credentials(url: str, credentials: Credentials | None) -> str:
    """The URL a client opens. Only ever passed to the stream reader, never shown or logged."""
    if credentials is None:
        return url
    parts = urlsplit(url)
    userinfo = quote(credentials.username, safe="") + ":" + quote(credentials.password, safe="")
    return urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, ""))


def display_url(url: str, credentials: Credentials | None) -> str:
    """The URL as people see it: the user name kept (it helps), the password masked."""
    if credentials is None:
        return url
    parts = urlsplit(url)
    userinfo = quote(credentials.username, safe="") + ":" + MASK
    return urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, ""))
