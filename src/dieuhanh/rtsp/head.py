"""Reading an RTSP response head from a camera's bytes, with a bound on everything it may claim.

A camera is outside our control: a status line, a header or a ``Content-Length`` is checked
against a limit before anything is allocated or trusted, and each violation is an ``RtspError``
naming it. (A ``Content-Length: -49`` once moved the parser backwards forever.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dieuhanh.rtsp.errors import RtspError, protocol_error

MAX_HEAD_BYTES = 64 * 1024  # a response head larger than this is not an RTSP server
MAX_LINE_BYTES = 8 * 1024  # a status line or one header (a long Digest challenge fits)
MAX_HEADERS = 64  # cameras send about ten
MAX_BODY_BYTES = 64 * 1024  # an SDP is a few hundred bytes; nothing else has a body we read
_STATUS = re.compile(r"RTSP/([0-9])\.([0-9]) ([0-9]{3})(?: (.*))?", re.DOTALL)
_DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass
class Response:
    status: int
    phrase: str
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def content_length(self) -> int:
        """The body's size: a non-negative integer up to ``MAX_BODY_BYTES``, 0 when absent."""
        values = self.headers.get("content-length", [])
        if not values:
            return 0
        if len(set(values)) > 1:
            raise protocol_error(f"conflicting Content-Length headers: {values[:2]}")
        value = values[0]
        if not _DIGITS.fullmatch(value):
            raise protocol_error(f"Content-Length is not a non-negative integer: {value[:40]!r}")
        if int(value) > MAX_BODY_BYTES:
            raise protocol_error(f"Content-Length {value} exceeds {MAX_BODY_BYTES} bytes")
        return int(value)

    def cseq(self) -> int | None:
        value = self.header("cseq")
        return int(value) if value is not None and _DIGITS.fullmatch(value) else None


def looks_like_http(start: bytes) -> bool:
    """A reply starting ``HTTP/``: a web server (a router's login page) on the camera's port."""
    return start.startswith(b"HTTP/")


def http_error(head: bytes) -> RtspError:
    status = head.split(b"\r\n", 1)[0][:80].decode("latin-1")
    return protocol_error(f"answered HTTP, not RTSP ({status!r})")


def parse_head(head: bytes) -> Response:
    """The status line and headers (without the blank line that ends them)."""
    if len(head) > MAX_HEAD_BYTES:
        raise protocol_error(f"an RTSP response head over {MAX_HEAD_BYTES} bytes")
    if looks_like_http(head):
        raise http_error(head)
    lines = head.split(b"\r\n")
    if len(lines) - 1 > MAX_HEADERS:
        raise protocol_error(f"an RTSP response with over {MAX_HEADERS} headers")
    longest = max(len(line) for line in lines)
    if longest > MAX_LINE_BYTES:
        raise protocol_error(f"an RTSP header line of {longest} bytes (at most {MAX_LINE_BYTES})")
    text = [line.decode("latin-1") for line in lines]
    status = _STATUS.fullmatch(text[0])
    if status is None:
        raise protocol_error(f"not an RTSP status line: {text[0][:80]!r}")
    response = Response(int(status[3]), status[4] or "")
    for line in text[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            continue  # a camera's stray line: nothing any request reads from it
        response.headers.setdefault(name.strip().lower(), []).append(value.strip())
    return response
