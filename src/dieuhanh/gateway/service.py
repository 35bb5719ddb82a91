"""The gateway of one node: which cameras are being pulled, for whom, and when to stop.

One pull per camera and variant (main or sub-stream; passed through or transcoded), shared by
all its viewers; started by the first, stopped ``idle_seconds`` after the last left (HLS readers
count as viewers while they keep fetching). Transcodes are capped per node.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from dieuhanh.core.config import GatewaySettings
from dieuhanh.core.errors import Unavailable
from dieuhanh.gateway.hls import HlsWindow
from dieuhanh.gateway.hub import Hub, Viewer
from dieuhanh.gateway.watchdog import LoopWatchdog

log = logging.getLogger(__name__)


class TranscodeLimit(Unavailable):
    code = "transcode_limit"


class Pull(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...
    @property
    def alive(self) -> bool:
        """False once it has given up (a transcoder restarted too often, a deleted camera)."""
        ...


@dataclass(frozen=True)
class StreamKey:
    camera_id: int
    quality: str  # main, sub
    output: str  # copy, h264

    def __str__(self) -> str:
        return f"{self.camera_id}/{self.quality}/{self.output}"


@dataclass
class Stream:
    key: StreamKey
    hub: Hub
    pull: Pull
    started_at: float = field(default_factory=time.monotonic)
    hls_seen_at: float | None = None
    idle_timer: asyncio.TimerHandle | None = None
    _hls: HlsWindow | None = None

    @property
    def hls(self) -> HlsWindow:
        """Its HLS segments, kept from the first HLS request on: most streams never need them,
        and six groups of pictures per camera would be most of a pull's memory."""
        if self._hls is None:
            self._hls = HlsWindow()
            if self.hub.init is not None:
                self._hls.add(self.hub.init)
                for fragment in self.hub.cache:
                    self._hls.add(fragment)
            self.hub.listeners.append(self._hls.add)
        return self._hls


PullFactory = Callable[[StreamKey, Hub, asyncio.AbstractEventLoop], Pull]


class Gateway:
    def __init__(self, settings: GatewaySettings, make_pull: PullFactory) -> None:
        self.settings = settings
        self.make_pull = make_pull
        self.streams: dict[StreamKey, Stream] = {}
        self.pulls_started = 0
        self.watchdog = LoopWatchdog()  # started with the first stream, on the serving loop

    @property
    def transcodes(self) -> int:
        return sum(1 for key in self.streams if key.output != "copy")

    def stream(self, key: StreamKey) -> Stream:
        """The running stream for ``key``, started if needed."""
        current = self.streams.get(key)
        if current is not None and current.pull.alive:
            self._keep(current)
            return current
        if current is not None:
            # It gave up while people watched (a camera down longer than the restart budget):
            # a new viewer is a reason to try again from scratch.
            log.info("stream %s had given up; starting it again", key)
            self.stop(key)
        if key.output != "copy" and self.transcodes >= self.settings.max_transcodes:
            raise TranscodeLimit(
                f"All {self.settings.max_transcodes} transcoding slots of this node are in use; "
                "try again shortly, or use a browser that plays H.265.",
            )
        loop = asyncio.get_running_loop()
        self.watchdog.start()
        hub = Hub(key=str(key))
        pull = self.make_pull(key, hub, loop)
        created = Stream(key=key, hub=hub, pull=pull)
        self.streams[key] = created
        pull.start()
        self.pulls_started += 1
        log.info("stream %s started", key)
        return created

    def attach(self, key: StreamKey) -> tuple[Stream, Viewer]:
        current = self.stream(key)
        return current, current.hub.attach()

    def detach(self, current: Stream, viewer: Viewer) -> None:
        current.hub.detach(viewer)
        self._maybe_idle(current)

    def touch_hls(self, current: Stream) -> None:
        current.hls_seen_at = time.monotonic()
        self._maybe_idle(current)

    def _keep(self, current: Stream) -> None:
        if current.idle_timer is not None:
            current.idle_timer.cancel()
            current.idle_timer = None

    def _maybe_idle(self, current: Stream) -> None:
        if current.hub.viewers or current.idle_timer is not None:
            return
        loop = asyncio.get_running_loop()
        current.idle_timer = loop.call_later(self.settings.idle_seconds, self._idle, current)

    def _idle(self, current: Stream) -> None:
        current.idle_timer = None
        if current.hub.viewers:
            return
        if current.hls_seen_at is not None:
            quiet = time.monotonic() - current.hls_seen_at
            if quiet < self.settings.idle_seconds:
                wait = self.settings.idle_seconds - quiet
                current.idle_timer = asyncio.get_running_loop().call_later(
                    wait, self._idle, current
                )
                return
        self.stop(current.key)

    def stop(self, key: StreamKey) -> None:
        current = self.streams.pop(key, None)
        if current is None:
            return
        self._keep(current)
        current.pull.stop()
        current.hub.close_all("stream stopped")
        log.info("stream %s stopped", key)

    def stop_all(self) -> None:
        for key in list(self.streams):
            self.stop(key)

    async def shutdown(self) -> None:
        """Stop every stream and wait for the external programs to end (none left behind)."""
        pulls = [stream.pull for stream in self.streams.values()]
        self.stop_all()
        waits = [task for pull in pulls if (task := getattr(pull, "stopping", None)) is not None]
        if waits:
            await asyncio.gather(*waits, return_exceptions=True)
        await self.watchdog.stop()

    def stats(self) -> dict[str, object]:
        return {
            "streams": len(self.streams),
            "transcodes": self.transcodes,
            "viewers": sum(len(s.hub.viewers) for s in self.streams.values()),
            "pulls_started": self.pulls_started,
            "loop_lag_ms": round(self.watchdog.last_lag * 1000),
            "loop_lag_max_ms": round(self.watchdog.max_lag * 1000),
        }
