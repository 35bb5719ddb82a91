"""The hub: GOP cache, skipping slow viewers, one timeline across restarts (no network here)."""

from __future__ import annotations

import asyncio
import struct

import pytest

from dieuhanh.gateway.fmp4 import Fragment, InitSegment
from dieuhanh.gateway.hub import Hub
from tests.aio import run


def init(codec: str = "h264", timescale: int = 90000) -> InitSegment:
    return InitSegment(b"ftyp-" + codec.encode(), codec, "avc1.4D401E", 640, 360, timescale)


def frame(number: int, keyframe: bool = False, size: int = 100) -> Fragment:
    # Enough of a moof for with_decode_time to find no tfdt and leave the bytes alone.
    return Fragment(bytes([number % 256]) * size, keyframe, number * 6000, 6000)


@pytest.fixture
def hub() -> Hub:
    return Hub(key="1/main/copy", max_viewer_bytes=1000)


def drain(viewer) -> list[bytes]:
    items = []
    while not viewer.queue.empty():
        item = viewer.queue.get_nowait()
        if item is not None:
            items.append(item)
    viewer.queued_bytes = 0
    return items


def test_a_new_viewer_starts_at_the_last_keyframe(hub: Hub) -> None:
    hub.publish_init(init())
    for number in range(10):
        hub.publish(frame(number, keyframe=number in (0, 5)))
    viewer = hub.attach()
    got = drain(viewer)
    assert got[0] == init().data
    assert [g[0] for g in got[1:]] == [5, 6, 7, 8, 9]
    assert viewer.started_video


def test_before_the_first_keyframe_a_viewer_waits(hub: Hub) -> None:
    hub.publish_init(init())
    viewer = hub.attach()
    hub.publish(frame(1))
    hub.publish(frame(2))
    assert drain(viewer) == [init().data]
    hub.publish(frame(3, keyframe=True))
    assert [g[0] for g in drain(viewer)] == [3]


def test_a_slow_viewer_is_skipped_to_the_next_keyframe(hub: Hub) -> None:
    hub.publish_init(init())
    fast, slow = hub.attach(), hub.attach()
    hub.publish(frame(0, keyframe=True))
    drain(fast)
    for number in range(1, 30):  # the slow viewer reads nothing: its queue passes 1000 bytes
        hub.publish(frame(number, keyframe=number == 20))
        drain(fast)
    assert slow.stats.skips >= 1
    assert slow.queued_bytes <= 1000
    remaining = [g[0] for g in drain(slow)]
    assert remaining[0] == 20  # it resumes on a whole picture
    assert remaining == list(range(20, 30))


def test_one_timeline_across_restarts(hub: Hub) -> None:
    hub.publish_init(init())
    hub.publish(_real_fragment(1000, 6000))
    hub.publish(_real_fragment(7000, 6000, keyframe=False))
    assert [f.decode_time for f in hub.cache] == [0, 6000]
    hub.publish_init(init("h265", timescale=15360))  # the camera came back, another codec
    hub.publish(_real_fragment(0, 1024))
    expected = 12000 * 15360 // 90000
    assert hub.cache[0].decode_time == expected


def _real_fragment(decode_time: int, duration: int, keyframe: bool = True) -> Fragment:
    tfdt = struct.pack(">I4sB3sQ", 20, b"tfdt", 1, b"\0\0\0", decode_time)
    tfhd = struct.pack(">I4sB3sI", 16, b"tfhd", 0, b"\0\0\0", 1)
    traf = struct.pack(">I4s", 8 + len(tfhd) + len(tfdt), b"traf") + tfhd + tfdt
    moof = struct.pack(">I4s", 8 + len(traf), b"moof") + traf
    mdat = struct.pack(">I4s", 12, b"mdat") + b"data"
    return Fragment(moof + mdat, keyframe, decode_time, duration)


def test_a_new_init_mid_stream_drops_the_old_queue(hub: Hub) -> None:
    hub.publish_init(init())
    viewer = hub.attach()
    hub.publish(frame(0, keyframe=True))
    hub.publish(frame(1))
    hub.publish_init(init("h265"))
    assert drain(viewer) == [init("h265").data]


def test_closing_wakes_viewers(hub: Hub) -> None:
    async def scenario() -> str | None:
        viewer = hub.attach()
        waiter = asyncio.create_task(viewer.next())
        await asyncio.sleep(0)
        hub.close_all("stream stopped")
        assert await waiter is None
        return viewer.closed_reason

    assert run(scenario()) == "stream stopped"
