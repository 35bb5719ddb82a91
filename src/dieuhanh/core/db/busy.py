"""Telling a busy database (a lock held too long, no free connection) from a broken one.

A busy database is worth a retry: the API answers 503 ``database_busy`` with ``Retry-After``
instead of a 500 after a long wait (issue #10).
"""

from __future__ import annotations

import math
import sqlite3

from sqlalchemy import exc as sa_exc

from dieuhanh.core.errors import Unavailable

# PostgreSQL: lock_timeout, statement_timeout (or a cancel), deadlock, serialization failure.
BUSY_SQLSTATES = frozenset({"55P03", "57014", "40P01", "40001"})


class DatabaseBusy(Unavailable):
    code = "database_busy"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"The database is busy; try again in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


def is_busy(error: BaseException) -> bool:
    if isinstance(error, sa_exc.TimeoutError):  # every pooled connection in use
        return True
    # SQLAlchemy wraps the driver's error; a probe on the driver's connection sees it bare.
    original = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    if isinstance(original, sqlite3.OperationalError):
        text = str(original).lower()
        return "locked" in text or "busy" in text
    return getattr(original, "sqlstate", None) in BUSY_SQLSTATES


def retry_after(lock_timeout_seconds: float) -> int:
    """Seconds a client should wait: about as long as a lock may be waited for."""
    return max(1, math.ceil(lock_timeout_seconds))
