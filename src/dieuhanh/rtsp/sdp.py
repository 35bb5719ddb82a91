"""Reading a camera's session description (RFC 4566): its video track, codec and parameter sets.

Sizes and numbers are bounded before they are trusted: a description over ``MAX_SDP_BYTES`` or
``MAX_SDP_LINES`` is refused with an ``RtspError``; an odd number (a frame rate of ``nan``, a
payload type of ``²``) is ignored, as a camera's cosmetic mistake the stream itself corrects.
"""

from __future__ import annotations

import binascii
import math
import re
from base64 import b64decode
from dataclasses import dataclass, field

from dieuhanh.rtsp.errors import protocol_error
from dieuhanh.rtsp.h26x import MAX_PARAMETER_SET_BYTES

CODECS = {"H264": "h264", "H265": "h265", "HEVC": "h265"}
MAX_SDP_BYTES = 64 * 1024
MAX_SDP_LINES = 512  # a camera's has about thirty
MAX_MEDIA = 32
MAX_FRAMERATE = 1000.0
_NUMBER = re.compile(r"[0-9]{1,9}")


@dataclass
class Media:
    kind: str  # video, audio, application
    payload_type: int
    encoding: str = ""  # as in rtpmap: H264, H265, MPEG4-GENERIC, PCMA, …
    clock_rate: int = 90000
    control: str = ""
    fmtp: dict[str, str] = field(default_factory=dict)
    framerate: float | None = None

    @property
    def codec(self) -> str | None:
        """h264 or h265 when the gateway can pass this track through."""
        return CODECS.get(self.encoding.upper())

    def parameter_sets(self) -> list[bytes]:
        """The parameter sets the SDP carries (sprop-…), in VPS, SPS, PPS order; may be none."""
        if self.codec == "h264":
            values = self.fmtp.get("sprop-parameter-sets", "").split(",")
        else:
            values = [self.fmtp.get(name, "") for name in ("sprop-vps", "sprop-sps", "sprop-pps")]
        sets = []
        for value in values[:8]:  # VPS, SPS, PPS; a few more at most
            if len(value) > MAX_PARAMETER_SET_BYTES * 4 // 3 + 4:
                continue  # far too large to be a parameter set: the in-band sets will do
            try:
                decoded = b64decode(value.strip(), validate=True)
            except (binascii.Error, ValueError):
                continue  # a camera's malformed sprop: the in-band sets will do
            if decoded and len(decoded) <= MAX_PARAMETER_SET_BYTES:
                sets.append(decoded)
        return sets


@dataclass
class SessionDescription:
    control: str = ""
    media: list[Media] = field(default_factory=list)

    @property
    def video(self) -> Media | None:
        return next((m for m in self.media if m.kind == "video"), None)


def _number(text: str) -> int | None:
    """A plain decimal of at most nine digits (``isdigit`` also takes ``²``, which int refuses)."""
    return int(text) if _NUMBER.fullmatch(text) else None


def parse_sdp(text: str) -> SessionDescription:
    if len(text) > MAX_SDP_BYTES:
        raise protocol_error(f"a session description over {MAX_SDP_BYTES} bytes")
    lines = text.splitlines()
    if len(lines) > MAX_SDP_LINES:
        raise protocol_error(f"a session description of {len(lines)} lines (at most "
                             f"{MAX_SDP_LINES})")  # fmt: skip
    session = SessionDescription()
    current: Media | None = None
    for raw in lines:
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "m":
            current = _media(value)
            session.media.append(current)
            if len(session.media) > MAX_MEDIA:
                raise protocol_error(f"a session description of over {MAX_MEDIA} tracks")
        elif kind == "a":
            name, _, attribute = value.partition(":")
            if current is None:
                if name == "control":
                    session.control = attribute.strip()
            else:
                _attribute(current, name, attribute.strip())
    return session


def _media(value: str) -> Media:
    parts = value.split()
    if not parts:
        raise protocol_error("an SDP media line (m=) without a media type")
    payload = _number(parts[3]) if len(parts) > 3 else None
    return Media(parts[0][:32], payload if payload is not None and payload < 128 else -1)


def _attribute(media: Media, name: str, value: str) -> None:
    if name == "control":
        media.control = value
    elif name == "rtpmap":
        payload, _, encoding = value.partition(" ")
        if payload.strip() == str(media.payload_type):
            codec, _, rest = encoding.partition("/")
            media.encoding = codec
            rate = _number(rest.partition("/")[0])
            media.clock_rate = rate if rate else media.clock_rate
    elif name == "fmtp":
        payload, _, parameters = value.partition(" ")
        if payload.strip() == str(media.payload_type):
            for item in parameters.split(";"):
                key, _, setting = item.strip().partition("=")
                if key:
                    media.fmtp[key.strip().lower()] = setting.strip()
    elif name == "framerate":
        media.framerate = _framerate(value)


def _framerate(value: str) -> float | None:
    """A camera's odd value (``0``, ``nan``, ``1e999``) is no rate: the timestamps will do."""
    try:
        rate = float(value[:32])
    except ValueError:
        return None
    return rate if math.isfinite(rate) and 0 < rate <= MAX_FRAMERATE else None


def resolve_control(base: str, control: str) -> str:
    """The URL to SETUP a track: its control attribute, absolute or relative to ``base``."""
    if control.lower().startswith(("rtsp://", "rtsps://")):
        return control
    if not control or control == "*":
        return base
    return f"{base.rstrip('/')}/{control}"
