"""RTSP/1.0 messages (RFC 2326): parsing requests, writing responses, reading Transport."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SERVER = "DieuHanh-Simulator/1.0"
METHODS = ("OPTIONS", "DESCRIBE", "SETUP", "PLAY", "PAUSE", "GET_PARAMETER", "TEARDOWN")
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "RTSP Version Not Supported",
}
MAX_HEAD = 16 * 1024
_INTERLEAVED = re.compile(r"interleaved=(\d+)(?:-(\d+))?")


class BadRequest(ValueError):
    """The peer did not send RTSP; answered with 400 and the connection closed."""


@dataclass(frozen=True)
class Request:
    method: str
    uri: str
    version: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def path(self) -> str:
        """The URL path without a trailing slash: ``/cam1/trackID=0`` for a SETUP."""
        return urlsplit(self.uri).path.rstrip("/") or "/"

    @property
    def session_id(self) -> str | None:
        value = self.header("Session")
        return value.split(";")[0].strip() if value else None


def parse_head(head: bytes) -> Request:
    """Request line and headers (the body is read separately, by Content-Length)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("request head is not UTF-8") from exc
    lines = text.split("\r\n")
    parts = lines[0].split()
    if len(parts) != 3 or not parts[2].startswith("RTSP/"):
        raise BadRequest(f"not an RTSP request line: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise BadRequest(f"malformed header line: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    return Request(parts[0].upper(), parts[1], parts[2], headers)


def content_length(request: Request) -> int:
    value = request.header("Content-Length") or "0"
    if not value.isdigit() or int(value) > MAX_HEAD:
        raise BadRequest(f"bad Content-Length {value[:20]!r}")
    return int(value)


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def encode(self, cseq: str | None) -> bytes:
        lines = [f"RTSP/1.0 {self.status} {REASONS.get(self.status, 'Error')}"]
        if cseq is not None:
            lines.append(f"CSeq: {cseq}")
        lines.append(f"Server: {SERVER}")
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        if self.body:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


@dataclass(frozen=True)
class InterleavedTransport:
    rtp_channel: int
    rtcp_channel: int

    def header(self, ssrc: int) -> str:
        channels = f"{self.rtp_channel}-{self.rtcp_channel}"
        return f"RTP/AVP/TCP;unicast;interleaved={channels};ssrc={ssrc:08X};mode=play"


def parse_transport(value: str | None, default_channel: int) -> InterleavedTransport | None:
    """The first TCP alternative offered, or None when only UDP is (then 461: clients retry TCP)."""
    for option in (value or "").split(","):
        fields = [part.strip() for part in option.split(";")]
        if fields[0].upper() != "RTP/AVP/TCP":
            continue
        match = _INTERLEAVED.search(option)
        if match is None:
            return InterleavedTransport(default_channel, default_channel + 1)
        first = int(match.group(1))
        second = int(match.group(2)) if match.group(2) else first + 1
        if first > 255 or second > 255:
            return None
        return InterleavedTransport(first, second)
    return None
