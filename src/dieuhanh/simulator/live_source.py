"""Live sources: one encoder per encoding spec, shared by every mount and session that uses it.

As GStreamer's shared media factories do, hundreds of "cameras" cost one encoder. A source
starts its encoder on first use (DESCRIBE needs the parameter sets, so callers await the first
keyframe, for a bounded time), and stops it once nobody has subscribed for ``idle_timeout``; the
next use starts a fresh one. It keeps the frames since the last keyframe (the GOP cache): a new
session gets that keyframe and what followed at once, then live frames, instead of waiting up to
a GOP for the next keyframe (0.2 s instead of 1.8 s to a first picture in a browser, see
NOTES-video.md).

All state lives on the event loop's thread: the encoder thread hands each frame over with
``call_soon_threadsafe``. Subscribers are written to directly, never queued: a slow one fills
its own transport buffer and drops frames (``FlowLimits``) without holding back the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from dieuhanh.simulator.live_encoder import LiveEncoder, LiveFrame, LiveSpec
from dieuhanh.simulator.rtp import RtpFrame
from dieuhanh.simulator.sdp import VIDEO_PT, MediaDescription, h264_media, h265_media

logger = logging.getLogger(__name__)
JOIN_TIMEOUT = 2.0  # seconds for a stopping encoder thread to finish its frame


@dataclass(frozen=True)
class LiveSettings:
    idle_timeout: float = 60.0  # seconds without subscribers before an encoder stops
    start_timeout: float = 5.0  # seconds to wait for a starting encoder's first keyframe


class LiveSourceError(RuntimeError):
    """The encoder did not start (or died): the client is answered 503."""


class Subscriber(Protocol):
    def deliver(self, frame: RtpFrame) -> None: ...


class LiveSource:
    def __init__(self, spec: LiveSpec, settings: LiveSettings) -> None:
        self.spec, self.settings = spec, settings
        self.starts = 0  # encoders started so far: restarts after idle periods show here
        self._encoder: LiveEncoder | None = None
        self._stopped: list[LiveEncoder] = []  # stopping threads, joined on close
        self._first_keyframe: asyncio.Future[MediaDescription] | None = None
        self._gop: list[RtpFrame] = []
        self._subscribers: dict[Subscriber, None] = {}  # a set that keeps arrival order
        self._idle: asyncio.TimerHandle | None = None

    @property
    def running(self) -> bool:
        return self._encoder is not None

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def description(self) -> MediaDescription:
        """The SDP media of the running encoder; only after :meth:`ready`."""
        future = self._first_keyframe
        if future is None or not future.done():
            raise LiveSourceError(f"live source {self.spec.key} is not started")
        return future.result()

    async def ready(self) -> MediaDescription:
        """Starts the encoder if needed and waits for its first keyframe."""
        if self._encoder is None:
            self._start()
        assert self._first_keyframe is not None
        self._arm_idle_timer()
        try:
            return await asyncio.wait_for(
                asyncio.shield(self._first_keyframe), self.settings.start_timeout
            )
        except TimeoutError as exc:
            raise LiveSourceError(f"no keyframe from {self.spec.key} within the timeout") from exc

    def subscribe(self, subscriber: Subscriber, after: int | None = None) -> list[RtpFrame]:
        """Adds a subscriber; returns the cached frames it should send first.

        ``after`` is the capture time of the last frame a resuming subscriber saw: it gets only
        later frames, which either continue what it had or start at the cached keyframe.
        """
        if self._encoder is None:
            raise LiveSourceError(f"live source {self.spec.key} is not started")
        self._subscribers[subscriber] = None
        self._cancel_idle_timer()
        return [frame for frame in self._gop if after is None or frame.ts_offset > after]

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber not in self._subscribers:
            return
        del self._subscribers[subscriber]
        if not self._subscribers:
            self._arm_idle_timer()

    def publish(self, frame: LiveFrame) -> None:
        """A new frame: cached and written to every subscriber (on the loop's thread)."""
        if frame.rtp.keyframe:
            self._gop = [frame.rtp]
            self._describe(frame)
        elif self._gop:
            self._gop.append(frame.rtp)
        for subscriber in list(self._subscribers):
            subscriber.deliver(frame.rtp)

    def stop(self) -> None:
        """Stops the encoder now; a later :meth:`ready` starts a new one."""
        self._cancel_idle_timer()
        if self._encoder is not None:
            logger.info("stopping the live encoder %s", self.spec.key)
            self._encoder.stop()
            self._stopped.append(self._encoder)
        self._encoder, self._gop = None, []
        self._fail_waiters(f"the live encoder {self.spec.key} was stopped")
        self._stopped = [encoder for encoder in self._stopped if encoder.thread.is_alive()]

    async def close(self) -> None:
        """Stops the encoder and waits for its thread (and any still stopping) to end."""
        self.stop()
        for encoder in self._stopped:
            await asyncio.to_thread(encoder.thread.join, JOIN_TIMEOUT)
        self._stopped = []

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self._first_keyframe = loop.create_future()
        encoder: LiveEncoder

        def on_frame(frame: LiveFrame) -> None:
            _call_soon(loop, encoder, self._accept, encoder, frame)

        def on_error(error: BaseException) -> None:
            _call_soon(loop, encoder, self._fail, encoder, error)

        encoder = LiveEncoder(self.spec, on_frame, on_error)
        self._encoder = encoder
        self.starts += 1
        encoder.start()

    def _accept(self, encoder: LiveEncoder, frame: LiveFrame) -> None:
        if encoder is self._encoder:  # not a late frame from an encoder already stopped
            self.publish(frame)

    def _fail(self, encoder: LiveEncoder, error: BaseException) -> None:
        if encoder is self._encoder:
            self._fail_waiters(f"the live encoder {self.spec.key} failed: {error}")
            self.stop()

    def _fail_waiters(self, message: str) -> None:
        future, self._first_keyframe = self._first_keyframe, None
        if future is not None and not future.done():
            future.set_exception(LiveSourceError(message))
            future.exception()  # marked retrieved: there may be nobody waiting

    def _describe(self, frame: LiveFrame) -> None:
        future = self._first_keyframe
        if future is None or future.done() or frame.parameter_sets is None:
            return
        media = h264_media if self.spec.codec == "h264" else h265_media
        future.set_result(media(VIDEO_PT, frame.parameter_sets, self.spec.fps))

    def _arm_idle_timer(self) -> None:
        self._cancel_idle_timer()
        if self._encoder is not None and not self._subscribers:
            loop = asyncio.get_running_loop()
            self._idle = loop.call_later(self.settings.idle_timeout, self._stop_if_idle)

    def _cancel_idle_timer(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def _stop_if_idle(self) -> None:
        self._idle = None
        if not self._subscribers:
            idle = self.settings.idle_timeout
            logger.info("live encoder %s unused for %.0f s", self.spec.key, idle)
            self.stop()


class LiveSources:
    """The server's live sources, one per spec, created on first mention and started on use."""

    def __init__(self, settings: LiveSettings | None = None) -> None:
        self.settings = settings or LiveSettings()
        self._sources: dict[LiveSpec, LiveSource] = {}

    def source_for(self, spec: LiveSpec) -> LiveSource:
        if spec not in self._sources:
            self._sources[spec] = LiveSource(spec, self.settings)
        return self._sources[spec]

    def __iter__(self) -> Iterator[LiveSource]:
        return iter(self._sources.values())

    def __len__(self) -> int:
        return len(self._sources)

    @property
    def running_count(self) -> int:
        return sum(source.running for source in self._sources.values())

    async def close(self) -> None:
        for source in self._sources.values():
            await source.close()


def _call_soon(
    loop: asyncio.AbstractEventLoop,
    encoder: LiveEncoder,
    callback: Callable[..., object],
    *args: object,
) -> None:
    """Hands work to the loop's thread; a closed loop means the server is gone: stop encoding."""
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        encoder.stop()
