"""Passthrough of an RTSP camera on the event loop: RTP in, fragmented MP4 out, nothing decoded.

Each frame becomes one fragment the moment its last packet arrives. The track's MP4 header comes
from the parameter sets (in the SDP, or in-band before keyframes); when the camera sends new
ones — another resolution after a settings change — a new init segment goes out at that
keyframe and viewers continue on it. When the camera drops, the pull reconnects with a doubling
wait and the hub keeps its viewers.

A source that is not ``rtsp://`` (HTTP, RTMP, a recorder's file) is handed to the PyAV pull.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from urllib.parse import urlsplit

from dieuhanh.core.network import NetworkPolicy, NetworkRefused, checked_address
from dieuhanh.core.redact import scrub
from dieuhanh.gateway.fmp4 import InitSegment
from dieuhanh.gateway.fmp4_writer import fragment, init_segment
from dieuhanh.gateway.hub import Hub
from dieuhanh.gateway.pull import Backoff, PassthroughPull, PullState, UrlProvider
from dieuhanh.gateway.watchdog import LoopWatchdog
from dieuhanh.rtsp import h26x
from dieuhanh.rtsp.client import RtspClient, RtspError
from dieuhanh.rtsp.errors import protocol_error
from dieuhanh.rtsp.rtp import Depacketizer
from dieuhanh.rtsp.sdp import Media

log = logging.getLogger(__name__)
_LENGTH = struct.Struct(">I")
MAX_FRAME_TICKS = 90000 * 10  # a frame interval beyond this is a jump, not a frame rate


class RtspPull:
    def __init__(
        self,
        hub: Hub,
        urls: UrlProvider,
        loop: asyncio.AbstractEventLoop,
        timeout: float = 5.0,
        max_backoff: float = 30.0,
        watchdog: LoopWatchdog | None = None,
        *,
        policy: NetworkPolicy,
    ) -> None:
        self.hub = hub
        self.watchdog = watchdog
        self.urls = urls
        self.loop = loop
        self.timeout = timeout
        self.max_backoff = max_backoff
        self.policy = policy
        self._state = PullState()
        self._task: asyncio.Task[None] | None = None
        self._other: PassthroughPull | None = None
        self.stopping: asyncio.Task[None] | None = None  # awaited by Gateway.shutdown

    @property
    def state(self) -> PullState:
        return self._other.state if self._other is not None else self._state

    def start(self) -> None:
        self._task = self.loop.create_task(self._run(), name=f"pull-{self.hub.key}")

    def stop(self) -> None:
        if self._other is not None:
            self._other.stop()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            self.stopping = self._task

    @property
    def alive(self) -> bool:
        if self._other is not None:
            return self._other.alive
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        backoff = Backoff(self.max_backoff)
        while True:
            started = time.monotonic()
            if await self._session() == "handed over":
                return
            await asyncio.sleep(backoff.after(time.monotonic() - started))
            self._state.reconnects += 1

    async def _session(self) -> str:
        try:
            url, secrets = await asyncio.to_thread(self.urls)
        except Exception as exc:  # the camera was deleted, or its key is gone
            self._failed(f"unreachable: {exc}")
            return "failed"
        if not url.lower().startswith("rtsp://"):
            return self._hand_over()
        address = await self._checked_address(url)
        if address is None:
            return "failed"
        track: VideoTrack | None = None

        def on_video(packet: bytes) -> None:
            if track is not None:
                track.depacketizer.push(packet)
                if track.reordered and client is not None:
                    client.close()

        client: RtspClient | None = None
        try:
            on_busy = self.watchdog.charger(self.hub.key) if self.watchdog is not None else None
            client = RtspClient(url, self.timeout, on_video, on_busy, address=address)
            track = VideoTrack(await client.open(), self.hub)
            await client.play()
            self._state.connected, self._state.codec = True, track.codec
            self._state.connects += 1
            await client.run()
        except RtspError as exc:
            if track is None or not track.reordered:
                self._failed(f"{exc.reason}: {scrub(exc.detail, secrets)}")
        finally:
            if client is not None:
                client.close()
            self._state.connected = False
        if track is not None and track.reordered:
            # B-frames: frames arrive in decode order with presentation timestamps. Putting them
            # in MP4 needs composition offsets this pull does not work out; FFmpeg's does.
            log.info(
                "pull %s: the camera sends B-frames; FFmpeg's RTSP client takes over", self.hub.key
            )
            return self._hand_over()
        return "ended"

    async def _checked_address(self, url: str) -> str | None:
        """Resolve once and check the camera-network policy; the client connects to this very
        address, so a DNS answer cannot change between the check and the connection."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = parts.port or 554
            address = await asyncio.to_thread(checked_address, host, self.policy, port)
        except (OSError, ValueError) as exc:
            self._failed(f"dns: {host} does not resolve ({getattr(exc, 'strerror', None) or exc})")
            return None
        except NetworkRefused as exc:
            self._failed(f"network_refused: {exc.message}")
            return None
        return str(address)

    def _hand_over(self) -> str:
        self._other = PassthroughPull(
            self.hub, self.urls, self.loop, self.timeout, policy=self.policy
        )
        self._other.start()
        return "handed over"

    def _failed(self, error: str) -> None:
        self._state.record_error(self.hub.key, error)
        self.hub.fail(error)


class VideoTrack:
    """Access units of one RTSP video track, as MP4 fragments published to the hub."""

    def __init__(self, media: Media, hub: Hub) -> None:
        assert media.codec is not None
        self.codec = media.codec
        self.hub = hub
        self.h265 = self.codec == "h265"
        self.depacketizer = Depacketizer(self.codec, media.payload_type, self.unit)
        self.parameter_sets: dict[int, bytes] = {}
        for nal in media.parameter_sets():
            self._keep_parameter_set(nal)
        self.configured: dict[int, bytes] | None = None  # the sets the current init was made of
        self.init: InitSegment | None = None
        self.sequence = 0
        self.last_rtp: int | None = None
        self.elapsed = 0  # RTP ticks since the first frame, unwrapped
        self.last_decode = -1
        self.interval = round(90000 / media.framerate) if media.framerate else 3600
        # A frame waits for the next one, whose time gives its exact duration: a guessed one
        # makes frames overlap or leave gaps, which Chromium's HLS refuses to parse. It costs
        # one frame interval of delay, as FFmpeg's muxer does.
        self.pending: tuple[int, bytes, bool] | None = None
        self.waiting_for_keyframe = True
        self.dropped_frames = 0
        self.reordered = False  # a timestamp went back: B-frames, which this track cannot order

    def _keep_parameter_set(self, nal: bytes) -> bool:
        kind = h26x.h265_type(nal) if self.h265 else h26x.h264_type(nal)
        if kind in ((h26x.H265_VPS, h26x.H265_SPS, h26x.H265_PPS) if self.h265
                    else (h26x.H264_SPS, h26x.H264_PPS)):  # fmt: skip
            if len(nal) > h26x.MAX_PARAMETER_SET_BYTES:
                raise protocol_error(f"a parameter set of {len(nal)} bytes (at most "
                                     f"{h26x.MAX_PARAMETER_SET_BYTES})")  # fmt: skip
            self.parameter_sets[kind] = nal
            return True
        return False

    def unit(self, timestamp: int, nals: list[bytes], damaged: bool) -> None:
        decode_time = self._decode_time(timestamp)
        self._flush(decode_time)
        if damaged:
            self.waiting_for_keyframe = True
            self.dropped_frames += 1
            return
        keyframe = False
        sample: list[bytes] = []
        for nal in nals:
            kind = h26x.h265_type(nal) if self.h265 else h26x.h264_type(nal)
            if self.h265:
                if kind in h26x.H265_IRAP:
                    keyframe = True
                elif kind == h26x.H265_AUD or self._keep_parameter_set(nal):
                    continue  # parameter sets go in the avcC/hvcC (hvc1: only there)
            elif kind == h26x.H264_IDR:
                keyframe = True
            elif kind == h26x.H264_AUD or self._keep_parameter_set(nal):
                continue
            sample += (_LENGTH.pack(len(nal)), nal)
        if keyframe and self.parameter_sets != self.configured:
            self._publish_init()
        if self.init is None or not sample or (self.waiting_for_keyframe and not keyframe):
            self.dropped_frames += 1
            return
        self.waiting_for_keyframe = False
        self.pending = (decode_time, b"".join(sample), keyframe)

    def _flush(self, next_decode_time: int) -> None:
        if self.pending is None:
            return
        decode_time, sample, keyframe = self.pending
        self.pending = None
        duration = next_decode_time - decode_time
        if 0 < duration < MAX_FRAME_TICKS:
            self.interval = duration
        else:
            duration = self.interval  # the camera paused: not a frame that lasted that long
        self.sequence += 1
        self.hub.publish(fragment(self.sequence, decode_time, duration, sample, keyframe))

    def _decode_time(self, timestamp: int) -> int:
        """RTP timestamps unwrapped into one increasing 90 kHz timeline from 0."""
        if self.last_rtp is not None:
            step = (timestamp - self.last_rtp) & 0xFFFFFFFF
            if step >= 1 << 31:
                step -= 1 << 32
                self.reordered = self.reordered or -step < MAX_FRAME_TICKS
            self.elapsed += step
        self.last_rtp = timestamp
        decode_time = max(self.elapsed, self.last_decode + 1)
        self.last_decode = decode_time
        return decode_time

    def _publish_init(self) -> None:
        video = self._read_parameter_sets()
        self.configured = dict(self.parameter_sets)  # unreadable sets are not retried each time
        if video is not None:
            self.init = init_segment(video)
            self.hub.publish_init(self.init)

    def _read_parameter_sets(self) -> h26x.VideoFormat | None:
        sets = self.parameter_sets
        try:
            if self.h265:
                if {h26x.H265_VPS, h26x.H265_SPS, h26x.H265_PPS} <= sets.keys():
                    return h26x.h265_format(
                        sets[h26x.H265_VPS], sets[h26x.H265_SPS], sets[h26x.H265_PPS]
                    )
            elif {h26x.H264_SPS, h26x.H264_PPS} <= sets.keys():
                return h26x.h264_format(sets[h26x.H264_SPS], sets[h26x.H264_PPS])
        except h26x.BitstreamError as exc:
            self.hub.fail(f"protocol_error: unreadable parameter sets ({exc})")
        return None
