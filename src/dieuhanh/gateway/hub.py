"""One camera stream shared by all its viewers, with the last group of pictures kept.

A new viewer gets the init segment and the fragments since the last keyframe at once, so its
picture starts without waiting for the next keyframe. A viewer that cannot keep up (a slow link,
a tab in the background, a client that never reads) is skipped to the next keyframe: its queue is
emptied and it resumes on a whole picture; it never holds back the others.

All methods run on the gateway's event loop; pulls running in threads call them through
``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dieuhanh.gateway.fmp4 import Fragment, InitSegment, shifted

# A camera that sends no keyframe for a long while must not make the cache grow without bound.
MAX_CACHE_BYTES = 8 * 1024 * 1024
MAX_CACHE_FRAGMENTS = 600


@dataclass
class ViewerStats:
    sent_bytes: int = 0
    sent_fragments: int = 0
    skipped_fragments: int = 0
    skips: int = 0


class Viewer:
    """One WebSocket (or HLS reader) of a hub, with a bounded queue of messages to send."""

    def __init__(self, max_queued_bytes: int) -> None:
        # bytes: media to send; str: a status message (JSON text); None: the end.
        self.queue: asyncio.Queue[bytes | str | None] = asyncio.Queue()
        self.queued_bytes = 0
        self.max_queued_bytes = max_queued_bytes
        self.waiting_for_keyframe = False
        self.started_video = False  # a keyframe has been queued: the picture can start
        self.stats = ViewerStats()
        self.closed_reason: str | None = None

    def offer(self, data: bytes, keyframe: bool, init: bool = False) -> None:
        if init:
            # A new init segment (the camera restarted, perhaps with another resolution): what is
            # queued belongs to the old one and would not decode.
            self._drop_queue()
            self.waiting_for_keyframe = True
            self._put(data)
            return
        if self.waiting_for_keyframe and not keyframe:
            self.stats.skipped_fragments += 1
            return
        if self.queued_bytes + len(data) > self.max_queued_bytes:
            self._drop_queue()
            self.stats.skips += 1
            self.stats.skipped_fragments += 1
            self.waiting_for_keyframe = True
            if not keyframe:
                return
        self.waiting_for_keyframe = False
        self.started_video = self.started_video or keyframe
        self._put(data)

    def _put(self, data: bytes) -> None:
        self.queued_bytes += len(data)
        self.queue.put_nowait(data)

    def notify(self, status: str) -> None:
        self.queue.put_nowait(status)

    def _drop_queue(self) -> None:
        kept: list[str] = []
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if isinstance(item, str):
                kept.append(item)  # what the camera is doing still holds
            elif item is not None:
                self.stats.skipped_fragments += 1
        for status in kept:
            self.queue.put_nowait(status)
        self.queued_bytes = 0

    def close(self, reason: str) -> None:
        self.closed_reason = reason
        self.queue.put_nowait(None)

    async def next(self) -> bytes | str | None:
        item = await self.queue.get()
        if isinstance(item, bytes):
            self.queued_bytes -= len(item)
            self.stats.sent_bytes += len(item)
            self.stats.sent_fragments += 1
        return item


@dataclass
class Hub:
    key: str
    max_viewer_bytes: int = 4 * 1024 * 1024
    init: InitSegment | None = None
    cache: list[Fragment] = field(default_factory=list)
    viewers: set[Viewer] = field(default_factory=set)
    listeners: list[Callable[[InitSegment | Fragment], None]] = field(default_factory=list)
    last_fragment_at: float | None = None
    last_keyframe_at: float | None = None
    fragments: int = 0
    error: str | None = None  # why the camera cannot be pulled now, for viewers who wait
    error_since: datetime | None = None
    # One timeline for the hub's whole life, across reconnects and restarts of the source: each
    # new source's fragments are shifted to continue where the last one ended, so that a
    # viewer's player keeps appending instead of seeing time jump back to zero.
    _timeline_end: int | None = None
    _shift: int | None = None
    _continue_at: int = 0

    def publish_init(self, init: InitSegment) -> None:
        if self.init is not None and self._timeline_end is not None:
            self._continue_at = self._timeline_end * init.timescale // self.init.timescale
        self._shift = None
        self.init = init
        self.cache.clear()
        if self.error is not None:
            self.error = self.error_since = None
            self._notify({"type": "status", "state": "live"})
        for viewer in self.viewers:
            viewer.offer(init.data, keyframe=False, init=True)
        for listener in self.listeners:
            listener(init)

    def publish(self, fragment: Fragment) -> None:
        if self._shift is None and fragment.decode_time >= 0:
            self._shift = self._continue_at - fragment.decode_time
        if self._shift and self.init is not None:
            fragment = shifted(fragment, self._shift, self.init)
        if fragment.decode_time >= 0:
            self._timeline_end = fragment.decode_time + fragment.duration
        now = time.monotonic()
        self.fragments += 1
        self.last_fragment_at = now
        if fragment.keyframe:
            self.cache = [fragment]
            self.last_keyframe_at = now
        elif self.cache:
            self.cache.append(fragment)
            if len(self.cache) > MAX_CACHE_FRAGMENTS or self._cache_bytes() > MAX_CACHE_BYTES:
                self.cache.clear()  # a new viewer will wait for the next keyframe instead
        for viewer in self.viewers:
            viewer.offer(fragment.data, fragment.keyframe)
        for listener in self.listeners:
            listener(fragment)

    def _cache_bytes(self) -> int:
        return sum(len(fragment.data) for fragment in self.cache)

    def attach(self) -> Viewer:
        viewer = Viewer(self.max_viewer_bytes)
        if self.init is not None:
            viewer.offer(self.init.data, keyframe=False, init=True)
            for fragment in self.cache:
                viewer.offer(fragment.data, fragment.keyframe)
        else:
            viewer.waiting_for_keyframe = True
        if self.error is not None:
            viewer.notify(json.dumps(self._offline(), ensure_ascii=False))
        self.viewers.add(viewer)
        return viewer

    def detach(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)

    def fail(self, error: str) -> None:
        """The camera cannot be pulled (for now): tell viewers why; the pull keeps trying, and
        they continue by themselves when it is back."""
        if error == self.error:
            return
        self.error_since = self.error_since or datetime.now(UTC)
        self.error = error
        self._notify(self._offline())

    def _offline(self) -> dict[str, str]:
        reason, _, detail = (self.error or "").partition(":")
        since = self.error_since.isoformat() if self.error_since else ""
        return {"type": "status", "state": "offline", "reason": reason.strip(),
                "detail": detail.strip(), "since": since}  # fmt: skip

    def _notify(self, status: dict[str, str]) -> None:
        text = json.dumps(status, ensure_ascii=False)
        for viewer in self.viewers:
            viewer.notify(text)

    def close_all(self, reason: str) -> None:
        for viewer in list(self.viewers):
            viewer.close(reason)
        self.viewers.clear()
