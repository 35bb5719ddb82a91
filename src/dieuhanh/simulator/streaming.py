"""Sending one track to one client: never buffering without bound; looped tracks paced here.

:class:`RtpSender` writes frames to one client. When the client reads too slowly its socket
buffer fills; frames are then dropped (and sending resumes on a keyframe, so the client can
decode again), and a client that stays stuck is disconnected: memory per client stays bounded.
An RTCP sender report goes out before the first frame and every few seconds, as cameras send them.

:class:`TrackSender` plays a looped track: frames are due at absolute times (start + RTP ticks /
clock rate), so pacing does not drift however long a session lasts. Sequence numbers and
timestamps run on across loops and pauses, as a real camera's do. Live tracks have their own
sender (``live_sender.py``): their encoder sets the pace.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass

from dieuhanh.simulator.media import Track
from dieuhanh.simulator.rtcp import sender_report
from dieuhanh.simulator.rtp import RtpFrame, interleave, stamp

logger = logging.getLogger(__name__)

REPORT_INTERVAL = 5.0  # seconds between RTCP sender reports


@dataclass(frozen=True)
class FlowLimits:
    max_buffer: int = 1 << 20  # bytes queued for one client before its frames are dropped
    slow_client_timeout: float = 10.0  # seconds of dropping before the client is cut off


class RtpSender:
    """One RTP stream to one client over interleaved TCP: stamping, flow control, reports."""

    def __init__(
        self, transport: asyncio.WriteTransport, channels: tuple[int, int], limits: FlowLimits
    ) -> None:
        self.transport, self.limits = transport, limits
        self.channel, self.rtcp_channel = channels
        self.ssrc = secrets.randbits(32)
        self.sequence = secrets.randbits(16)
        self.sent_frames = self.dropped_frames = 0
        self.sent_packets = self.sent_octets = 0
        self._next_report = 0.0
        self._need_keyframe = False
        self._dropping_since: float | None = None

    def send_frame(
        self, frame: RtpFrame, timestamp: int, now: float, clock_timestamp: int | None = None
    ) -> None:
        """Write one frame now (``now`` on the loop's clock), or drop it if the client lags.

        ``clock_timestamp`` is the RTP time of ``now`` for the sender report, when the frame was
        captured earlier (a live frame from the GOP cache); by default the frame is due now.
        """
        if self.transport.is_closing():
            return
        if self.transport.get_write_buffer_size() > self.limits.max_buffer:
            self._drop(now)
            return
        self._dropping_since = None
        if self._need_keyframe and not frame.keyframe:
            self.dropped_frames += 1
            return
        self._need_keyframe = False
        if now >= self._next_report:
            self._send_report(timestamp if clock_timestamp is None else clock_timestamp)
            self._next_report = now + REPORT_INTERVAL
        self.transport.write(stamp(frame, self.channel, self.sequence, timestamp, self.ssrc))
        self.sequence = (self.sequence + frame.packet_count) & 0xFFFF
        self.sent_frames += 1
        self.sent_packets += frame.packet_count
        self.sent_octets += frame.payload_octets

    def _send_report(self, timestamp: int) -> None:
        report = sender_report(
            self.ssrc, time.time(), timestamp, self.sent_packets, self.sent_octets
        )
        self.transport.write(interleave(self.rtcp_channel, report))

    def _drop(self, now: float) -> None:
        self.dropped_frames += 1
        self._need_keyframe = True
        if self._dropping_since is None:
            self._dropping_since = now
        elif now - self._dropping_since > self.limits.slow_client_timeout:
            logger.info(
                "disconnecting a client that read nothing for %.0f s", now - self._dropping_since
            )
            self.transport.abort()


class TrackSender(RtpSender):
    """Plays a looped :class:`Track` from its first frame (a keyframe), paced in real time."""

    def __init__(
        self,
        track: Track,
        transport: asyncio.WriteTransport,
        channels: tuple[int, int],
        limits: FlowLimits,
    ) -> None:
        super().__init__(transport, channels, limits)
        self.track = track
        self.timestamp = secrets.randbits(32)  # RTP time of the next PLAY
        self._task: asyncio.Task[None] | None = None
        self._run_base = 0
        self._run_epoch = 0.0
        self._paused_at: float | None = None

    @property
    def playing(self) -> bool:
        return self._task is not None and not self._task.done()

    def play(self, stall_at: float | None) -> tuple[int, int]:
        """Start sending from the clip's first frame (a keyframe); returns (seq, rtptime)."""
        if self.playing:
            return self.sequence, self.timestamp
        loop = asyncio.get_running_loop()
        if self._paused_at is not None:
            # RTP time follows the wall clock through a pause, as a camera's capture clock does.
            paused = loop.time() - self._paused_at
            self.timestamp = (self.timestamp + round(paused * self.track.clock_rate)) & 0xFFFFFFFF
            self._paused_at = None
        self._run_base, self._run_epoch = self.timestamp, loop.time()
        self._task = loop.create_task(self._run(stall_at))
        return self.sequence, self.timestamp

    def pause(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        self._task = None
        self._paused_at = asyncio.get_running_loop().time()
        elapsed = self._paused_at - self._run_epoch
        self.timestamp = (self._run_base + round(elapsed * self.track.clock_rate)) & 0xFFFFFFFF

    async def _run(self, stall_at: float | None) -> None:
        loop = asyncio.get_running_loop()
        frames, clock = self.track.frames, self.track.clock_rate
        position = 0
        while not self.transport.is_closing():
            cycle, index = divmod(position, len(frames))
            frame = frames[index]
            ticks = cycle * self.track.loop_ticks + frame.ts_offset
            due = self._run_epoch + ticks / clock
            if stall_at is not None and due >= stall_at:
                logger.debug("track on channel %d stalls as configured", self.channel)
                return  # an encoder that hung: nothing more is sent, the connection stays
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.send_frame(frame, self._run_base + ticks, loop.time())
            position += 1
