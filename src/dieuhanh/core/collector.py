"""Bulk work without the garbage collector rescanning the whole process.

An import of 100,000 values allocates millions of short-lived objects. CPython starts a
collection every few hundred net allocations, and now and then a full one that walks every
tracked object of the process — the modules, the metadata, the loaded models — none of which the
import made or can free. On PostgreSQL that walking cost 5-15 % of an import of new or changed
values and 30 % of a re-import (bench/indicators.py, measured against collections left as they
are and against no collection at all, which it equals).

``gc.freeze()`` moves every object alive now into a generation no collection looks at;
garbage made during the work is still collected as usual, and ``gc.unfreeze()`` afterwards
puts the frozen objects back where the next full collection sees them. Both are constant time.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0


@contextmanager
def older_objects_frozen() -> Iterator[None]:
    """Within the block, objects that existed before it are not scanned by collections.

    Counted across threads: the first to enter freezes, the last to leave unfreezes, so one
    import ending never unfreezes under another still running."""
    global _holders
    with _lock:
        _holders += 1
        if _holders == 1:
            gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.unfreeze()
