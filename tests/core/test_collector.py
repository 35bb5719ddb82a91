"""The garbage collector's freeze around bulk work: older objects are out of reach of
collections inside the block and back in reach after it, also when blocks overlap across
threads, and garbage made inside is still collected."""

from __future__ import annotations

import gc
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

from dieuhanh.core.collector import (
    QUICK_SWITCH_SECONDS,
    older_objects_frozen,
    quick_thread_switches,
)


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


@contextmanager
def held_in_another_thread(block: Callable[[], AbstractContextManager[None]]) -> Iterator[None]:
    """Another thread (another import) enters ``block`` inside this one's and stays in it until
    this context ends."""
    entered, release = threading.Event(), threading.Event()

    def other_import() -> None:
        with block():
            entered.set()
            release.wait(timeout=10)

    worker = threading.Thread(target=other_import)
    worker.start()
    assert entered.wait(timeout=10)
    try:
        yield
    finally:
        release.set()
        worker.join(timeout=10)
    assert not worker.is_alive()


def test_overlapping_blocks_unfreeze_only_when_the_last_leaves() -> None:
    with ExitStack() as other:
        with older_objects_frozen():
            other.enter_context(held_in_another_thread(older_objects_frozen))
        assert gc.get_freeze_count() > 0  # the other block still runs
    assert gc.get_freeze_count() == 0


def test_an_error_inside_unfreezes() -> None:
    try:
        with older_objects_frozen():
            raise ValueError("bad row")
    except ValueError:
        pass
    assert gc.get_freeze_count() == 0


def test_thread_switches_are_quick_inside_and_as_before_after() -> None:
    before = sys.getswitchinterval()
    with ExitStack() as other:
        with quick_thread_switches():
            assert sys.getswitchinterval() == QUICK_SWITCH_SECONDS
            other.enter_context(held_in_another_thread(quick_thread_switches))
        assert sys.getswitchinterval() == QUICK_SWITCH_SECONDS  # the other import still runs
    assert sys.getswitchinterval() == before
