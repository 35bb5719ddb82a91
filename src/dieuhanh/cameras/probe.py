"""One probe of one stream: is it live, and if not, why.

Cheap by design: the stream is opened with PyAV (FFmpeg) and its packets are read for a short
window without decoding, which gives codec, size, frame rate, bitrate and keyframe spacing. Only
when a picture check is due is one keyframe decoded (black / frozen detection). Every message is
scrubbed: the URL holds the camera's password.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import av
import av.error
from av.codec.context import Flags2

from dieuhanh.cameras.models import Reason
from dieuhanh.cameras.picture import Picture, picture_of
from dieuhanh.core import network
from dieuhanh.core.network import IPAddress, NetworkPolicy, NetworkRefused, safety_options
from dieuhanh.core.redact import scrub
from dieuhanh.gateway.reasons import classify_open_error
from dieuhanh.rtsp.head import http_error, looks_like_http

# Codecs the gateway can pass through or transcode; anything else cannot be shown.
SUPPORTED_CODECS = frozenset({"h264", "hevc", "mjpeg", "mpeg4"})
CODEC_NAMES = {"hevc": "h265"}  # the API speaks of H.265
AUDIO_NAMES = {"pcm_mulaw": "g711u", "pcm_alaw": "g711a"}


@dataclass(frozen=True)
class ProbeOptions:
    timeout: float = 5.0  # connect and each read
    read_seconds: float = 1.0  # packets read for measurements
    picture: bool = False  # decode one keyframe
    keyframe_wait: float = 0.0  # read on until a second keyframe, for the GOP length


@dataclass
class ProbeResult:
    live: bool
    reason: Reason | None = None
    detail: str | None = None
    codec: str | None = None
    profile: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    bitrate_kbps: float | None = None
    keyframe_interval_s: float | None = None
    audio_codec: str | None = None
    picture: Picture | None = None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def dead(cls, reason: Reason, detail: str, started: float) -> ProbeResult:
        return cls(
            live=False, reason=reason, detail=detail[:300], seconds=time.monotonic() - started
        )


# The host's addresses; raises socket.gaierror when the name does not resolve.
Resolver = Callable[[str], list[IPAddress]]


def resolve(host: str) -> list[IPAddress]:
    return network.resolve(host)


def probe(
    url: str,
    options: ProbeOptions,
    secrets: Iterable[str] = (),
    resolver: Resolver = resolve,
    *,
    policy: NetworkPolicy,
) -> ProbeResult:
    """Open ``url`` (credentials included) and classify it. Never raises for a stream's fault.

    The host is resolved first: FFmpeg reports a DNS failure as a bare I/O error, and the
    addresses must pass the camera-network policy before anything connects. FFmpeg then
    resolves the name again: a DNS answer changed in between (rebinding) is not caught here —
    a residual risk of names; cameras given by address have none.
    """
    started = time.monotonic()
    secrets = tuple(secrets)
    host = urlsplit(url).hostname or ""
    try:
        addresses = resolver(host)
    except socket.gaierror as exc:
        return ProbeResult.dead(Reason.DNS, f"cannot resolve {host}: {exc.strerror}", started)
    try:
        policy.check(host, addresses)
    except NetworkRefused as exc:  # nothing was sent: no connection was made
        return ProbeResult.dead(Reason.NETWORK_REFUSED, exc.message, started)
    if url.lower().startswith("rtsp://") and addresses:
        # Only after the policy: the greeting is a connection too, to the checked address.
        verdict = greet(url, options.timeout, str(addresses[0]))
        if verdict is not None:
            return ProbeResult.dead(*verdict, started)
    try:
        container = av.open(
            url, options=_open_options(url, options), timeout=(options.timeout, options.timeout)
        )
    except Exception as exc:  # every FFmpeg failure is a finding about the stream
        waited = time.monotonic() - started
        reason, detail = classify_open_error(exc, waited, options.timeout)
        return ProbeResult.dead(reason, scrub(detail, secrets), started)
    try:
        return _inspect(container, options, started, secrets)
    finally:
        container.close()


def greet(url: str, timeout: float, address: str | None = None) -> tuple[Reason, str] | None:
    """One OPTIONS on its own connection before FFmpeg's: the verdicts FFmpeg gets wrong or late.

    FFmpeg reads an HTTP reply (a router's login page on the camera's port, a common mistake) as
    RTSP and waits out its whole timeout; a server that never answers costs FFmpeg its timeout
    too, so saying so here keeps a probe to one timeout. Anything else is left to FFmpeg.
    ``address``: where to connect (the host's address the network policy allowed).
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 554
    netloc = f"[{host}]" if ":" in host else host
    bare = urlunsplit(("rtsp", f"{netloc}:{port}", parts.path or "/", parts.query, ""))
    request = f"OPTIONS {bare} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: DieuHanh probe\r\n\r\n"
    try:
        connection = socket.create_connection((address or host, port), timeout=timeout)
    except TimeoutError:
        return Reason.TIMEOUT, f"no answer from {host}:{port} within {timeout:g} s"
    except OSError:
        return None  # refused, unreachable: FFmpeg names these at once
    with connection:
        try:
            connection.sendall(request.encode("utf-8"))
            start = _first_line(connection, time.monotonic() + timeout)
        except TimeoutError:
            return Reason.TIMEOUT, f"connected, but no answer within {timeout:g} s"
        except OSError:
            return None
    if looks_like_http(start):
        return Reason.PROTOCOL_ERROR, http_error(start).detail
    return None


def _first_line(connection: socket.socket, deadline: float) -> bytes:
    """The answer's first bytes, up to its first line break (at most 512 bytes)."""
    received = b""
    while b"\r\n" not in received and len(received) < 512:
        connection.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = connection.recv(512 - len(received))
        if not chunk:
            break
        received += chunk
    return received


def _open_options(url: str, options: ProbeOptions) -> dict[str, str]:
    microseconds = str(int(options.timeout * 1_000_000))
    # 0.1 s of analysis: the SDP already gives codec and size, and the frame rate is measured
    # here from the packets. (FFmpeg's default, 5 s, made every open take about 2 s.)
    common = {"probesize": "32768", "analyzeduration": "100000", **safety_options(url)}
    if url.startswith("rtsp"):
        # TCP: cameras behind NAT and firewalls rarely pass RTP over UDP back to us.
        return {**common, "rtsp_transport": "tcp", "timeout": microseconds}
    return {**common, "rw_timeout": microseconds}


def _inspect(
    container: Any, options: ProbeOptions, started: float, secrets: tuple[str, ...]
) -> ProbeResult:
    video = next((s for s in container.streams if s.type == "video"), None)
    audio = next((s for s in container.streams if s.type == "audio"), None)
    audio_codec = _codec_name(audio) if audio is not None else None
    if video is None:
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "nothing"
        result = ProbeResult.dead(Reason.NO_VIDEO, f"no video track (found: {kinds})", started)
        result.audio_codec = audio_codec
        return result
    codec = _codec_name(video)
    if codec not in SUPPORTED_CODECS:
        result = ProbeResult.dead(
            Reason.UNSUPPORTED_CODEC, f"video codec {codec or 'unknown'} cannot be shown", started
        )
        result.codec = codec
        return result
    context = video.codec_context
    result = ProbeResult(
        live=True,
        codec=CODEC_NAMES.get(codec, codec),
        profile=context.profile or None,
        width=context.width or None,
        height=context.height or None,
        audio_codec=AUDIO_NAMES.get(audio_codec or "", audio_codec),
    )
    try:
        _measure(container, video, options, result)
    except Exception as exc:  # the stream broke after connecting
        reason = Reason.STALLED
        if not isinstance(exc, av.error.ExitError | TimeoutError | EOFError):
            reason = Reason.PROTOCOL_ERROR
        stalled = ProbeResult.dead(reason, scrub(f"after connecting: {exc}", secrets), started)
        stalled.codec, stalled.width, stalled.height = result.codec, result.width, result.height
        return stalled
    result.seconds = time.monotonic() - started
    return result


def _codec_name(stream: Any) -> str | None:
    context = stream.codec_context
    name = getattr(context, "name", None) or getattr(getattr(context, "codec", None), "name", None)
    return str(name) if name and name != "none" else None


def _measure(container: Any, video: Any, options: ProbeOptions, result: ProbeResult) -> None:
    """Read packets (not frames) for the window; decode one keyframe if a picture is wanted."""
    window = _Window(video.time_base or Fraction(1, 90000))
    decoder: Callable[[Any], Picture | None] | None = None
    if options.picture:
        decoder = _keyframe_decoder(video)
    deadline = time.monotonic() + options.read_seconds
    for packet in container.demux(video):
        if packet.size == 0:
            continue
        window.add(packet)
        if decoder is not None and packet.is_keyframe and result.picture is None:
            result.picture = decoder(packet)
        now = time.monotonic()
        waiting_for_picture = decoder is not None and result.picture is None
        waiting_for_gop = options.keyframe_wait and window.keyframes < 2
        if (
            now >= deadline
            and not waiting_for_picture
            and not (waiting_for_gop and now < deadline + options.keyframe_wait)
        ):
            break
        if waiting_for_picture and now >= deadline + options.timeout:
            raise TimeoutError(f"no keyframe within {options.read_seconds + options.timeout:.0f} s")
    if window.packets == 0:
        raise EOFError("the stream ended before sending any video")
    result.fps = window.fps() or _declared_fps(video)
    result.bitrate_kbps = window.bitrate_kbps()
    result.keyframe_interval_s = window.keyframe_interval()


def _declared_fps(video: Any) -> float | None:
    rate = video.average_rate or video.guessed_rate
    return round(float(rate), 2) if rate else None


def _keyframe_decoder(video: Any) -> Callable[[Any], Picture | None]:
    context = video.codec_context
    # One thread: FFmpeg's slice threading returned half-decoded frames of multi-slice x264.
    context.thread_count = 1
    # RTSP delivers a multi-slice keyframe as several packets; without CHUNKS the decoder makes
    # a partial picture of each, and a half-grey keyframe would look like a changed scene.
    context.flags2 |= Flags2.chunks
    context.skip_frame = "NONKEY"

    def decode(packet: Any) -> Picture | None:
        for frame in context.decode(packet):
            return picture_of(frame)
        return None

    return decode


class _Window:
    """Packets seen during the read window: enough for frame rate, bitrate and GOP length."""

    def __init__(self, time_base: Fraction) -> None:
        self.time_base = time_base
        self.packets = 0
        self.bytes = 0
        self.first_pts: int | None = None
        self.last_pts: int | None = None
        self.keyframe_pts: list[int] = []

    @property
    def keyframes(self) -> int:
        return len(self.keyframe_pts)

    def add(self, packet: Any) -> None:
        self.packets += 1
        self.bytes += packet.size
        pts = packet.pts if packet.pts is not None else packet.dts
        if pts is None:
            return
        if self.first_pts is None:
            self.first_pts = pts
        self.last_pts = pts
        if packet.is_keyframe:
            self.keyframe_pts.append(pts)

    def _span(self) -> float:
        if self.first_pts is None or self.last_pts is None:
            return 0.0
        return float((self.last_pts - self.first_pts) * self.time_base)

    def fps(self) -> float | None:
        span = self._span()
        return round((self.packets - 1) / span, 2) if span > 0 and self.packets > 1 else None

    def bitrate_kbps(self) -> float | None:
        span = self._span()
        if span <= 0 or self.packets < 2:
            return None
        # The last packet's bytes belong after the span; leave them out.
        return round(self.bytes * (self.packets - 1) / self.packets * 8 / span / 1000, 1)

    def keyframe_interval(self) -> float | None:
        if len(self.keyframe_pts) < 2:
            return None
        gaps = [b - a for a, b in zip(self.keyframe_pts, self.keyframe_pts[1:], strict=False)]
        return round(float(sum(gaps) / len(gaps) * self.time_base), 2)
