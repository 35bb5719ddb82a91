"""Pulling a camera into a hub without re-encoding: PyAV reads RTSP and writes fragmented MP4.

Passthrough costs little (packets are copied, never decoded), so it runs in-process, one thread
per watched camera: FFmpeg releases the GIL while it waits on the network. When the camera drops,
the pull reconnects with a doubling wait; the hub keeps its viewers and its timeline, so they
resume by themselves. Transcoding, which costs a core, runs in a supervised process instead
(``transcode.py``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import av

from dieuhanh.core import network
from dieuhanh.core.network import NetworkPolicy, NetworkRefused, safety_options
from dieuhanh.core.redact import scrub
from dieuhanh.gateway.fmp4 import Fragment, InitSegment, SegmentReader
from dieuhanh.gateway.hub import Hub
from dieuhanh.gateway.reasons import classify_open_error

log = logging.getLogger(__name__)
MOVFLAGS = "frag_every_frame+empty_moov+default_base_moof"
PASSTHROUGH_CODECS = {"h264": "avc1", "hevc": "hvc1"}  # Safari needs hvc1, not FFmpeg's hev1

# Where the camera's URL (with its password) comes from: asked anew at each (re)connection, so a
# password changed in the registry is used at the next reconnect.
UrlProvider = Callable[[], tuple[str, list[str]]]


@dataclass
class PullState:
    connected: bool = False
    connects: int = 0
    reconnects: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    codec: str | None = None
    started_at: float = field(default_factory=time.monotonic)

    def record_error(self, key: str, error: str) -> None:
        self.last_error, self.last_error_at = error, time.monotonic()
        log.info("pull %s: %s", key, error)


@dataclass
class Backoff:
    """The wait before a pull reconnects: doubling from 1 s up to ``limit``, and from 1 s again
    after a session that streamed for a while — a new failure, not the same one."""

    limit: float
    wait: float = 1.0

    def after(self, session_seconds: float) -> float:
        if session_seconds > 30:
            self.wait = 1.0
        current, self.wait = self.wait, min(self.wait * 2, self.limit)
        return current


class _Sink:
    """The muxer's output: bytes collected until the gateway takes them."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        return len(chunk)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


class PassthroughPull:
    def __init__(
        self,
        hub: Hub,
        urls: UrlProvider,
        loop: asyncio.AbstractEventLoop,
        timeout: float = 5.0,
        max_backoff: float = 30.0,
        *,
        policy: NetworkPolicy,
    ) -> None:
        self.hub = hub
        self.urls = urls
        self.loop = loop
        self.timeout = timeout
        self.max_backoff = max_backoff
        self.policy = policy
        self.state = PullState()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"pull-{hub.key}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end; it does at its next packet or read timeout."""
        self._stop.set()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        backoff = Backoff(self.max_backoff)
        while not self._stop.is_set():
            started = time.monotonic()
            self._session()
            if self._stop.wait(backoff.after(time.monotonic() - started)):
                break
            self.state.reconnects += 1

    def _session(self) -> None:
        url, secrets = self.urls()
        refused = self._refusal(url)
        if refused:
            self._failed(refused)
            return
        options = {"rtsp_transport": "tcp", "timeout": str(int(self.timeout * 1e6)),
                   "probesize": "32768", "analyzeduration": "100000"}  # fmt: skip
        if not url.startswith("rtsp"):
            options = {"rw_timeout": options["timeout"], "probesize": "65536",
                       "analyzeduration": "500000"}  # fmt: skip
        options |= safety_options(url)
        try:
            container = av.open(url, options=options)
        except Exception as exc:  # a finding about the camera, shown to its viewers
            reason, detail = classify_open_error(exc, 0.0, self.timeout)
            self._failed(f"{reason.value}: {scrub(detail, secrets)}")
            return
        try:
            self._stream(container, secrets)
        except Exception as exc:  # the camera dropped or broke mid-stream
            self._failed(f"stalled: {scrub(f'{type(exc).__name__}: {exc}', secrets)}")
        finally:
            container.close()
            self.state.connected = False

    def _refusal(self, url: str) -> str | None:
        """The camera-network policy at each connection. FFmpeg resolves the name again when it
        connects: a DNS answer changed in between is the residual risk of this path (the native
        RTSP client connects to the address checked)."""
        host = urlsplit(url).hostname or ""
        try:
            self.policy.check(host, network.resolve(host))
        except OSError as exc:
            return f"dns: cannot resolve {host} ({getattr(exc, 'strerror', None) or exc})"
        except NetworkRefused as exc:
            return f"network_refused: {exc.message}"
        return None

    def _stream(self, container: Any, secrets: list[str]) -> None:
        video = next((s for s in container.streams if s.type == "video"), None)
        name = getattr(video.codec_context, "name", None) if video is not None else None
        if video is None or name not in PASSTHROUGH_CODECS:
            self._failed(
                f"unsupported_codec: cannot pass through {name or 'a stream without video'}"
            )
            return
        self.state.connected, self.state.codec = True, name
        self.state.connects += 1
        sink = _Sink()
        output = av.open(sink, mode="w", format="mp4", options={"movflags": MOVFLAGS})
        try:
            out_stream = output.add_stream_from_template(video)
            out_stream.codec_tag = PASSTHROUGH_CODECS[name]
            reader = SegmentReader()
            clock = _Timestamps(video.time_base)
            for packet in container.demux(video):
                if self._stop.is_set():
                    break
                if packet.size == 0 or not clock.fix(packet):
                    continue
                packet.stream = out_stream
                output.mux(packet)
                for item in reader.feed(sink.take()):
                    self._deliver(item)
        finally:
            output.close()

    def _deliver(self, item: InitSegment | Fragment) -> None:
        if isinstance(item, InitSegment):
            self.loop.call_soon_threadsafe(self.hub.publish_init, item)
        else:
            self.loop.call_soon_threadsafe(self.hub.publish, item)

    def _failed(self, error: str) -> None:
        self.state.record_error(self.hub.key, error)
        self.loop.call_soon_threadsafe(self.hub.fail, error)


class _Timestamps:
    """RTSP gives the first packets no timestamps (FFmpeg waits for RTCP): fill them in, and keep
    decode times strictly increasing as the MP4 muxer requires. Cameras send no B-frames, so a
    missing decode time is the presentation time."""

    def __init__(self, time_base: Any) -> None:
        self.last_dts: int | None = None
        self.step = max(1, int(1 / (25 * time_base))) if time_base else 1

    def fix(self, packet: Any) -> bool:
        if packet.pts is None and packet.dts is None:
            if self.last_dts is not None:
                packet.pts = packet.dts = self.last_dts + self.step
            else:
                packet.pts = packet.dts = 0
        elif packet.dts is None:
            packet.dts = packet.pts
        elif packet.pts is None:
            packet.pts = packet.dts
        if self.last_dts is not None and packet.dts <= self.last_dts:
            if packet.pts < self.last_dts:
                return False  # a packet from the past: drop it rather than break the timeline
            packet.dts = self.last_dts + 1
        self.last_dts = packet.dts
        return True
