"""Database work beside the checking of the next rows, for imports of many batches.

An import spends about as long in Python (reading the file, checking rows, deciding, preparing
the statements) as the database spends running them. On PostgreSQL the database is another
process: while it writes one batch, this process can decide the next and check the one after,
and a 2-CPU machine does both at once (bench/indicators.py). The waiting thread holds no lock
Python needs: psycopg releases the interpreter while it waits on the socket.

The work goes to one thread, in the order it was submitted, so the one connection is never
used by two statements at once; the caller uses the connection itself only after
:meth:`Overlap.settle`. SQLite runs in this process, under the same interpreter lock; there
the work runs at once, in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Dialect

from dieuhanh.core.collector import quick_thread_switches

T = TypeVar("T")


class Overlap:
    def __init__(self, dialect: Dialect) -> None:
        self.beside = dialect.name == "postgresql"
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future[Any]] = []
        self._switches = ExitStack()

    def submit(self, work: Callable[..., T], *args: Any) -> Future[T]:
        """Queue ``work(*args)`` after everything submitted before it."""
        if not self.beside:
            future = _done(work, *args)
        else:
            if self._pool is None:  # only imports of more than one batch get here
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="value-writer")
                # The database thread's statements follow each other quicker (core.collector).
                self._switches.enter_context(quick_thread_switches())
            future = self._pool.submit(work, *args)
        self._pending.append(future)
        return future

    def result(self, future: Future[T]) -> T:
        """``future``'s result once it and everything submitted before it has run. The first
        failure is raised: a failed write aborts the transaction, and the read after it would
        report that instead of what went wrong."""
        position = self._pending.index(future) + 1
        done, self._pending = self._pending[:position], self._pending[position:]
        for earlier in done:
            if earlier.exception() is not None:
                earlier.result()
        return future.result()

    def settle(self) -> None:
        """Wait for everything submitted; raise the first failure."""
        if self._pending:
            self.result(self._pending[-1])

    def __enter__(self) -> Overlap:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        # Also when the caller fails (a file broken half-way): its rollback, after this, never
        # meets a statement still running.
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._switches.close()


def _done(work: Callable[..., T], *args: Any) -> Future[T]:
    future: Future[T] = Future()
    try:
        future.set_result(work(*args))
    except BaseException as error:  # handed to whoever asks for the result, as from a thread
        future.set_exception(error)
    return future
