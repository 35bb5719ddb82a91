"""HLS with fMP4 segments, for browsers without MediaSource (iPhones before iOS 17.1).

The same fragments the WebSocket viewers get are grouped into segments, one per group of
pictures (keyframe to keyframe), and the last few are kept in memory. A new init segment (the
camera restarted) starts a discontinuity with its own map.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from dieuhanh.gateway.fmp4 import Fragment, InitSegment

KEEP_SEGMENTS = 6


@dataclass
class Segment:
    sequence: int
    init_id: int
    data: bytes
    seconds: float
    discontinuity: bool


@dataclass
class HlsWindow:
    keep: int = KEEP_SEGMENTS
    inits: dict[int, bytes] = field(default_factory=dict)
    segments: deque[Segment] = field(default_factory=deque)
    _init_id: int = 0
    _timescale: int = 90000
    _parts: list[Fragment] = field(default_factory=list)
    _next_sequence: int = 0
    _discontinuity: bool = False
    # EXT-X-TARGETDURATION may not change while a player reloads the playlist (Chromium's HLS
    # stops with a parse error when it does): the longest segment ever seen, never lowered.
    _target: int = 1

    def add(self, item: InitSegment | Fragment) -> None:
        if isinstance(item, InitSegment):
            self._close()
            self._discontinuity = self._init_id > 0
            self._init_id += 1
            self.inits[self._init_id] = item.data
            self._timescale = item.timescale or 90000
            return
        if item.keyframe:
            self._close()
            self._parts = [item]
        elif self._parts:
            self._parts.append(item)
        # Fragments before the first keyframe cannot start a segment: skipped.

    def _close(self) -> None:
        if not self._parts or not self._init_id:
            return
        seconds = sum(part.duration for part in self._parts) / self._timescale
        self._target = max(self._target, math.ceil(seconds))
        self.segments.append(Segment(
            sequence=self._next_sequence, init_id=self._init_id,
            data=b"".join(part.data for part in self._parts), seconds=seconds,
            discontinuity=self._discontinuity,
        ))  # fmt: skip
        self._next_sequence += 1
        self._discontinuity = False
        self._parts = []
        while len(self.segments) > self.keep:
            self.segments.popleft()
        live = {segment.init_id for segment in self.segments} | {self._init_id}
        for init_id in [i for i in self.inits if i not in live]:
            del self.inits[init_id]

    @property
    def ready(self) -> bool:
        return len(self.segments) >= 2

    def playlist(self, query: str = "") -> str:
        suffix = f"?{query}" if query else ""
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:7",
            f"#EXT-X-TARGETDURATION:{self._target}",
            f"#EXT-X-MEDIA-SEQUENCE:{self.segments[0].sequence if self.segments else 0}",
            "#EXT-X-INDEPENDENT-SEGMENTS",
        ]
        current_map = None
        for segment in self.segments:
            if segment.discontinuity and current_map is not None:
                lines.append("#EXT-X-DISCONTINUITY")
            if segment.init_id != current_map:
                lines.append(f'#EXT-X-MAP:URI="init-{segment.init_id}.mp4{suffix}"')
                current_map = segment.init_id
            lines.append(f"#EXTINF:{segment.seconds:.3f},")
            lines.append(f"{segment.sequence}.m4s{suffix}")
        return "\n".join(lines) + "\n"

    def segment(self, sequence: int) -> bytes | None:
        return next((s.data for s in self.segments if s.sequence == sequence), None)

    def init(self, init_id: int) -> bytes | None:
        return self.inits.get(init_id)
