"""Sending a live track to one client: the GOP cache at once, then each frame as it is encoded.

RTP time is the frame's capture time (90 kHz ticks of the monotonic clock) plus a random offset
per session, so it runs on through pauses, encoder restarts and cached frames sent in a burst,
and a sender report can give the RTP time of "now" exactly. The encoder sets the pace: frames
arrive from the :class:`LiveSource` and are written at once (or dropped for a slow client).
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from dieuhanh.simulator.live_encoder import capture_ticks
from dieuhanh.simulator.live_source import LiveSource
from dieuhanh.simulator.rtp import RtpFrame
from dieuhanh.simulator.streaming import FlowLimits, RtpSender

logger = logging.getLogger(__name__)

RTP_MASK = 0xFFFFFFFF


class LiveSender(RtpSender):
    def __init__(
        self,
        source: LiveSource,
        transport: asyncio.WriteTransport,
        channels: tuple[int, int],
        limits: FlowLimits,
    ) -> None:
        super().__init__(transport, channels, limits)
        self.source = source
        self._offset = secrets.randbits(32)  # RTP time = offset + capture ticks
        self._subscribed = False
        self._stall_at: float | None = None
        self._last_seen: int | None = None  # capture ticks of the last frame sent or dropped
        # Frames waiting for the PLAY response to be written first; None once flowing.
        self._held: list[RtpFrame] | None = None

    @property
    def playing(self) -> bool:
        return self._subscribed

    def play(self, stall_at: float | None) -> tuple[int, int]:
        """Subscribes (the source must be :meth:`~LiveSource.ready`); returns (seq, rtptime).

        ``rtptime`` is that of the first frame to be sent: the cached keyframe for a new
        session, or the frame after the last one seen for a resumed one.
        """
        loop = asyncio.get_running_loop()
        if self._subscribed:
            return self.sequence, self._timestamp(capture_ticks(loop.time()))
        self._stall_at = stall_at
        backlog = self.source.subscribe(self, after=self._last_seen)
        self._subscribed, self._held = True, backlog
        # Sent on the loop's next turn: the connection writes the PLAY response first.
        loop.call_soon(self._release)
        first = backlog[0].ts_offset if backlog else capture_ticks(loop.time())
        return self.sequence, self._timestamp(first)

    def pause(self) -> None:
        if self._subscribed:
            self.source.unsubscribe(self)
        self._subscribed, self._held = False, None

    def deliver(self, frame: RtpFrame) -> None:
        """A frame from the source: held until the backlog is out, then written."""
        if self._held is not None:
            self._held.append(frame)
        else:
            self._send(frame)

    def _release(self) -> None:
        held, self._held = self._held, None
        for frame in held or ():
            if not self._subscribed:
                return
            self._send(frame)

    def _send(self, frame: RtpFrame) -> None:
        now = asyncio.get_running_loop().time()
        if self.transport.is_closing():
            self.pause()
            return
        if self._stall_at is not None and now >= self._stall_at:
            logger.debug("live track on channel %d stalls as configured", self.channel)
            self.pause()  # an encoder that hung: nothing more is sent, the connection stays
            return
        self._last_seen = frame.ts_offset
        clock = self._timestamp(capture_ticks(now))
        self.send_frame(frame, self._timestamp(frame.ts_offset), now, clock_timestamp=clock)

    def _timestamp(self, ticks: int) -> int:
        return (self._offset + ticks) & RTP_MASK
