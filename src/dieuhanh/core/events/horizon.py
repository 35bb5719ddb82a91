"""The delivery horizon: the highest event id below which no event can still appear.

Event ids come from a sequence, but transactions commit in any order: A takes id 10, B takes 11,
B commits, A commits later. A cursor that moved to 11 when only 11 was visible would skip 10
forever. So subscribers only read up to the *horizon* H, such that every id ≤ H is either visible
now or will never be (its transaction rolled back).

PostgreSQL. Ids visible from the cursor up without a hole are safe at once: nothing is missing
below them. A hole is resolved without guessing a delay, from transaction ids. ``publish`` makes
its transaction take a transaction id before the event takes its id (``log._WAKE``). One
statement reads the visible ids above H and the snapshot it saw; let M be the highest of those ids
and X the snapshot's ``xmax`` (the first transaction id not yet handed out). Whoever holds an id
below M took it before M was committed, hence before the snapshot, and so had its transaction id
before the snapshot: its transaction id is below X. Once a later snapshot's ``xmin`` reaches X,
every such transaction has finished, and every hole below M is final: H moves to M. Holes come
from rollbacks and from publishers overlapping; while one is open, the horizon is re-read every
few tens of milliseconds, so the wait is about as long as the slowest transaction that was
running when the hole was seen (no fixed delay that a long transaction could outlast, losing its
event).

SQLite has one writer at a time and gives ids under its write lock, so ids become visible in
order: the horizon is the highest visible id. (Retention never deletes the newest event, so SQLite
never hands out an old id again; see ``retention``.)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text

from dieuhanh.core.events.log import EventRecord

SCAN_LIMIT = 10_000  # ids read per refresh: a far-behind horizon catches up in steps

_PG_SCAN = text(
    """
    SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
           pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax,
           ARRAY(SELECT id FROM events WHERE id > :after ORDER BY id LIMIT :limit) AS ids
    """
).bindparams(bindparam("after"), bindparam("limit"))


@dataclass(frozen=True)
class Fence:
    """Every hole at or below ``upto`` is final once the oldest running transaction ≥ ``xid``."""

    upto: int
    xid: int


@dataclass
class Horizon:
    settled: int = 0  # every id ≤ settled is visible or never will be
    fence: Fence | None = None

    @property
    def waiting(self) -> bool:
        """A hole is open: re-read soon, no notification will say when it closes."""
        return self.fence is not None

    def refresh(self, connection: Connection) -> bool:
        """Move the horizon as far as is safe; True when it moved."""
        before = self.settled
        if connection.dialect.name == "postgresql":
            self._refresh_postgresql(connection)
        else:
            newest = connection.execute(text(f"SELECT max(id) FROM {EventRecord.__tablename__}"))
            self.settled = max(self.settled, int(newest.scalar() or 0))
        return self.settled > before

    def _refresh_postgresql(self, connection: Connection) -> None:
        row = connection.execute(_PG_SCAN, {"after": self.settled, "limit": SCAN_LIMIT}).one()
        xmin, xmax, ids = int(row.xmin), int(row.xmax), list(row.ids)
        if self.fence is not None and xmin >= self.fence.xid:
            self.settled = max(self.settled, self.fence.upto)
            self.fence = None
            ids = [event_id for event_id in ids if event_id > self.settled]
        self.observe(ids, xmax)

    def observe(self, ids: list[int], xmax: int) -> None:
        """Take the hole-free run of ``ids`` (sorted, all above ``settled``); fence the rest."""
        for event_id in ids:
            if event_id != self.settled + 1:
                break
            self.settled = event_id
        remaining = [event_id for event_id in ids if event_id > self.settled]
        # An open fence is kept (not pushed up) so that a steady stream with holes still settles.
        if remaining and self.fence is None:
            self.fence = Fence(upto=remaining[-1], xid=xmax)
        elif self.fence is not None and self.fence.upto <= self.settled:
            self.fence = None
