"""Reading a camera's session description (RFC 4566): its video track, codec and parameter sets."""

from __future__ import annotations

import binascii
import contextlib
from base64 import b64decode
from dataclasses import dataclass, field

CODECS = {"H264": "h264", "H265": "h265", "HEVC": "h265"}


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
        for value in values:
            try:
                decoded = b64decode(value.strip(), validate=True)
            except (binascii.Error, ValueError):
                continue  # a camera's malformed sprop: the in-band sets will do
            if decoded:
                sets.append(decoded)
        return sets


@dataclass
class SessionDescription:
    control: str = ""
    media: list[Media] = field(default_factory=list)

    @property
    def video(self) -> Media | None:
        return next((m for m in self.media if m.kind == "video"), None)


def parse_sdp(text: str) -> SessionDescription:
    session = SessionDescription()
    current: Media | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "m":
            parts = value.split()
            payload = parts[3] if len(parts) > 3 else ""
            current = Media(parts[0], int(payload) if payload.isdigit() else -1)
            session.media.append(current)
        elif kind == "a":
            name, _, attribute = value.partition(":")
            if current is None:
                if name == "control":
                    session.control = attribute.strip()
            else:
                _attribute(current, name, attribute.strip())
    return session


def _attribute(media: Media, name: str, value: str) -> None:
    if name == "control":
        media.control = value
    elif name == "rtpmap":
        payload, _, encoding = value.partition(" ")
        if payload.strip() == str(media.payload_type):
            codec, _, rest = encoding.partition("/")
            media.encoding = codec
            rate = rest.partition("/")[0]
            media.clock_rate = int(rate) if rate.isdigit() else media.clock_rate
    elif name == "fmtp":
        payload, _, parameters = value.partition(" ")
        if payload.strip() == str(media.payload_type):
            for item in parameters.split(";"):
                key, _, setting = item.strip().partition("=")
                if key:
                    media.fmtp[key.strip().lower()] = setting.strip()
    elif name == "framerate":
        with contextlib.suppress(ValueError):  # a camera's odd value: the timestamps will do
            media.framerate = float(value)


def resolve_control(base: str, control: str) -> str:
    """The URL to SETUP a track: its control attribute, absolute or relative to ``base``."""
    if control.lower().startswith(("rtsp://", "rtsps://")):
        return control
    if not control or control == "*":
        return base
    return f"{base.rstrip('/')}/{control}"
