"""The transcode worker's stop signal: a signal arriving while the main thread is inside
``StopSignal.set`` (the gateway's death sends SIGTERM just as the main loop sees the parent gone)
must not deadlock the worker — it did, and the worker outlived the gateway for good."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from dieuhanh.gateway.transcode_worker import ExitCode, StopSignal


def test_a_signal_while_the_lock_is_held_is_noted_not_waited_for() -> None:
    stop = StopSignal()
    stop.running = True
    with stop._lock:  # the main thread inside set(), as when the parent's death is seen
        handler = threading.Thread(target=stop.on_signal, args=(signal.SIGTERM, None))
        handler.start()
        handler.join(timeout=5)
        assert not handler.is_alive(), "the handler waited for a lock its own thread holds"
    assert not stop.event.is_set()  # noted only; the main loop turns it into a stop
    stop.check(os.getppid())
    assert stop.event.is_set()
    assert (stop.code, stop.reason) == (ExitCode.OK, "signal SIGTERM")


def test_the_parent_gone_is_a_stop_and_the_first_reason_wins() -> None:
    stop = StopSignal()
    stop.running = True
    stop.check(os.getppid())
    assert not stop.event.is_set()  # parent there, no signal: nothing
    stop.check(parent=-1)  # not our parent: re-parented, the gateway is gone
    stop.on_signal(signal.SIGINT, None)
    stop.check(os.getppid())
    assert (stop.code, stop.reason) == (ExitCode.OK, "parent process gone")


def test_a_signal_before_the_pipeline_runs_leaves_at_once() -> None:
    stop = StopSignal()
    with pytest.raises(SystemExit) as leaving:
        stop.on_signal(signal.SIGTERM, None)
    assert leaving.value.code == ExitCode.OK
