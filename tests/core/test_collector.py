"""The garbage collector's freeze around bulk work: older objects are out of reach of
collections inside the block and back in reach after it, also when blocks overlap across
threads, and garbage made inside is still collected."""

from __future__ import annotations

import gc
import sys
import threading
import weakref

from dieuhanh.core.collector import older_objects_frozen


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_objects_from_before_are_frozen_inside_and_back_after() -> None:
    gc.collect()
    assert gc.get_freeze_count() == 0
    with older_objects_frozen():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_cycles_made_inside_are_still_collected() -> None:
    with older_objects_frozen():
        first, second = Node(), Node()
        first.other, second.other = second, first
        alive = weakref.ref(first)
        del first, second
        gc.collect()
        assert alive() is None


def test_overlapping_blocks_unfreeze_only_when_the_last_leaves() -> None:
    entered, release = threading.Event(), threading.Event()

    def other_import() -> None:
        with older_objects_frozen():
            entered.set()
            release.wait(timeout=10)

    worker = threading.Thread(target=other_import)
    with older_objects_frozen():
        worker.start()
        assert entered.wait(timeout=10)
    assert gc.get_freeze_count() > 0  # the other block still runs
    release.set()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert gc.get_freeze_count() == 0


def test_an_error_inside_unfreezes() -> None:
    try:
        with older_objects_frozen():
            raise ValueError("bad row")
    except ValueError:
        pass
    assert gc.get_freeze_count() == 0


def test_thread_switches_are_quick_inside_and_as_before_after() -> None:
    from dieuhanh.core.collector import QUICK_SWITCH_SECONDS, quick_thread_switches

    before = sys.getswitchinterval()
    entered, release = threading.Event(), threading.Event()

    def other_import() -> None:
        with quick_thread_switches():
            entered.set()
            release.wait(timeout=10)

    worker = threading.Thread(target=other_import)
    with quick_thread_switches():
        assert sys.getswitchinterval() == QUICK_SWITCH_SECONDS
        worker.start()
        assert entered.wait(timeout=10)
    assert sys.getswitchinterval() == QUICK_SWITCH_SECONDS  # the other import still runs
    release.set()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert sys.getswitchinterval() == before
