"""Process-wide settings of the interpreter for bulk work, made by the first of overlapping
holders and undone by the last (imports may run in several request threads at once).

**The garbage collector.** An import of 100,000 values allocates millions of short-lived
objects. CPython starts a collection every few hundred net allocations, and now and then a full
one that walks every tracked object of the process — the modules, the metadata, the loaded
models — none of which the import made or can free. On PostgreSQL that walking cost 5-15 % of an
import of new or changed values and 30 % of a re-import (bench/indicators.py, measured against
collections left as they are and against no collection at all, which it equals).
``gc.freeze()`` moves every object alive now into a generation no collection looks at; garbage
made during the work is still collected as usual, and ``gc.unfreeze()`` afterwards puts the
frozen objects back where the next full collection sees them. Both are constant time.

**Thread switches.** An import's database thread waits on the socket while the caller checks
the next rows (indicators.values.overlap). When the server answers, the waiting thread needs
the interpreter for a few microseconds to hand the result over and send the next statement,
but the checking thread keeps it until the switch interval ends — 5 ms by default, during which
the server sits idle. A batch takes about six statements: with 0.5 ms, an import of new values
ran at 59,000-60,000/s instead of 45,000-48,000/s, changed values at 45,000-46,000/s instead of
42,000-44,000/s (same machine, alternating). The cost, only while imports run: CPU-bound
threads of the process are asked to switch ten times as often, each switch a few microseconds.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

QUICK_SWITCH_SECONDS = 0.0005


class _Shared:
    """A change of the whole process, counted across threads: the first holder to enter makes
    it, the last to leave undoes it, so one import ending never undoes it under another."""

    def __init__(self, make: Callable[[], None], undo: Callable[[], None]) -> None:
        self._make, self._undo = make, undo
        self._lock = threading.Lock()
        self._holders = 0

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            self._holders += 1
            if self._holders == 1:
                self._make()
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0:
                    self._undo()


_frozen = _Shared(gc.freeze, gc.unfreeze)


def older_objects_frozen() -> AbstractContextManager[None]:
    """Within the block, objects that existed before it are not scanned by collections."""
    return _frozen.held()


class _Switching:
    def __init__(self) -> None:
        self.before = sys.getswitchinterval()

    def make(self) -> None:
        self.before = sys.getswitchinterval()
        sys.setswitchinterval(min(self.before, QUICK_SWITCH_SECONDS))

    def undo(self) -> None:
        sys.setswitchinterval(self.before)


_switching = _Switching()
_quick = _Shared(_switching.make, _switching.undo)


def quick_thread_switches() -> AbstractContextManager[None]:
    """Within the block, a thread waiting for the interpreter gets it within 0.5 ms."""
    return _quick.held()
