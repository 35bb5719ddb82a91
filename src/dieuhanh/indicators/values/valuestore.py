"""Reading and writing data values in bulk: the stored values of a batch in one query, inserts,
updates, deletes and history rows with Core executemany, and one audit entry per import.

Split from :mod:`dieuhanh.indicators.values.save`, which decides what to write; this module only
writes it, fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Dialect,
    Executable,
    Row,
    Table,
    column,
    delete,
    insert,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from dieuhanh.audit.models import AuditEntry
from dieuhanh.core.db.actor import get_actor
from dieuhanh.core.errors import Conflict
from dieuhanh.indicators.catalog.catalog import ElementInfo
from dieuhanh.indicators.catalog.models import DataValue, DataValueChange
from dieuhanh.indicators.catalog.periods import Period
from dieuhanh.indicators.values.bulkwrite import (
    Write,
    array_literal,
    insert_rows,
    no_write,
    update_values,
)

VALUES = cast(Table, DataValue.__table__)
CHANGES = cast(Table, DataValueChange.__table__)
# (element id, unit id, period code, option)
Key = tuple[int, int, str, str]
KEY_COLUMNS = ("element_id", "unit_id", "period_code", "option")
INSERT_COLUMNS = (*KEY_COLUMNS, "period_type", "period_start", "period_end", "value", "numeric",
                  "comment")  # fmt: skip
CHANGE_COLUMNS = (*KEY_COLUMNS, "action", "old_value", "new_value")
# A history row as the write path makes it, in the order of CHANGE_COLUMNS.
Change = tuple[int, int, str, str, str, str | None, str | None]


@dataclass(frozen=True)
class Stamp:
    """Who writes, from where, when: the same on every row of one save."""

    source: str
    source_detail: str | None
    who: str
    now: datetime


@dataclass(slots=True)  # not frozen: one per value, and frozen costs 0.7 µs more to make
class Checked:
    row: int
    key: Key
    period: Period
    element: ElementInfo
    value: str | None  # None: delete
    numeric: float | None
    comment: str | None


@dataclass(slots=True)
class Stored:
    id: int | None
    value: str
    comment: str | None


class StoredLookup:
    """The stored value of each checked key of a batch, in one query: prepared here, run by
    :meth:`run` (the database's part, nothing else), read back by :meth:`found`.

    PostgreSQL joins the exact keys as arrays (``unnest``); SQLite takes one IN list per key
    column and the exact keys are picked here. A row-value IN of thousands of tuples is a scan of
    the whole table on SQLite and a thousands-term OR on PostgreSQL (measured with
    bench/indicators.py: 443 values/s on PostgreSQL with 2 M values stored, 6,900 with IN lists).
    """

    def __init__(self, dialect: Dialect, checked: list[Checked]) -> None:
        # Each key with its period's start: the unique index leads with element and start.
        starts = {item.key: item.period.start for item in checked}
        self.keys: list[Key] = list(starts)
        # The (unit, period) pairs, for the reporting part's locks read beside the values.
        self.pairs = {(key[1], key[2]) for key in self.keys}
        self.statement: Executable
        if dialect.name == "postgresql":
            self.statement = _STORED_BY_KEYS
            self.params = {
                name: array_literal(VALUES.c[name].type, [key[n] for key in self.keys])
                for n, name in enumerate(KEY_COLUMNS)
            }
            self.params["period_start"] = array_literal(
                VALUES.c.period_start.type, list(starts.values())
            )
        else:
            self.statement = select(
                DataValue.element_id, DataValue.unit_id, DataValue.period_code, DataValue.option,
                DataValue.id, DataValue.value, DataValue.comment,
            ).where(
                DataValue.element_id.in_(sorted({key[0] for key in self.keys})),
                DataValue.period_start.in_(sorted(set(starts.values()))),
                DataValue.unit_id.in_(sorted({key[1] for key in self.keys})),
                DataValue.period_code.in_(sorted({key[2] for key in self.keys})),
            )  # fmt: skip
            self.params = {}

    def names_any(self, keys: dict[Key, Any]) -> bool:
        return any(key in keys for key in self.keys)

    def run(self, connection: Connection) -> Sequence[Row[Any]]:
        return connection.execute(self.statement, self.params).all()

    def found(self, rows: Sequence[Row[Any]]) -> dict[Key, Stored | None]:
        """Each key's stored value, None where none is."""
        found: dict[Key, Stored | None] = dict.fromkeys(self.keys)
        for element_id, unit_id, period_code, option, value_id, value, comment in map(tuple, rows):
            key = (element_id, unit_id, period_code, option)
            if key in found:
                found[key] = Stored(value_id, value, comment)
        return found


_STORED_BY_KEYS = text(
    "SELECT d.element_id, d.unit_id, d.period_code, d.option, d.id, d.value, d.comment "
    "FROM data_values AS d JOIN unnest(CAST(:element_id AS integer[]), "
    "CAST(:unit_id AS integer[]), CAST(:period_code AS text[]), CAST(:option AS text[]), "
    "CAST(:period_start AS date[])) AS k(element_id, unit_id, period_code, option, period_start) "
    "ON d.element_id = k.element_id AND d.period_start = k.period_start "
    "AND d.unit_id = k.unit_id AND d.period_code = k.period_code AND d.option = k.option"
)


def change_row(item: Checked, action: str, before: Stored | None, after: Stored | None) -> Change:
    return (
        *item.key, action, before.value if before else None, after.value if after else None
    )  # fmt: skip


def prepare_write(
    dialect: Dialect,
    stamp: Stamp,
    original: dict[Key, Stored | None],
    final: dict[Key, Stored | None],
    latest: dict[Key, Checked],
    changes: list[Change],
) -> Write:
    """What brings the table from ``original`` to ``final`` for the keys ``latest`` names and
    adds the history rows ``changes``: all Python work done here, the statements run by the
    returned :data:`Write`, in this order."""
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[int, str, float | None, str | None]] = []
    deletes: list[int | None] = []
    for key, item in latest.items():
        before, after = original.get(key), final.get(key)
        if before is not None and after is None:
            deletes.append(before.id)
        elif after is not None and before is None:
            period = item.period
            inserts.append(
                (*key, period.type.value, period.start, period.end, after.value, item.numeric,
                 after.comment)
            )  # fmt: skip
        elif after is not None and before is not None:
            updates.append(_update_row(item, before, after))
    stored = {"source": stamp.source, "source_detail": stamp.source_detail, "stored_by": stamp.who}
    parents = _parents_held(dialect, inserts)
    postgres = dialect.name == "postgresql"
    writes = [
        _delete(deletes),
        parents if postgres else no_write,
        update_values(dialect, VALUES, updates, stored | {"updated_at": stamp.now}),
        insert_rows(
            dialect, VALUES, INSERT_COLUMNS, inserts,
            stored | {"created_at": stamp.now, "updated_at": stamp.now},
        ),
        no_write if postgres else parents,
        insert_rows(
            dialect, CHANGES, CHANGE_COLUMNS, changes,
            {"source": stamp.source, "source_detail": stamp.source_detail,
             "changed_by": stamp.who, "changed_at": stamp.now},
        ),
    ]  # fmt: skip

    def run(connection: Connection) -> None:
        for write in writes:
            write(connection)

    return run


def _delete(ids: list[int | None]) -> Write:
    if not ids:
        return no_write
    statement = delete(DataValue).where(DataValue.id.in_(ids))

    def run(connection: Connection) -> None:
        connection.execute(statement)

    return run


# What data_values' foreign keys did for each inserted row (migration 0023), once per distinct
# parent of a batch.
_PARENTS = {
    "element_id": table("data_elements", column("id")),
    "unit_id": table("units", column("id")),
}


def _parents_held(dialect: Dialect, inserts: list[tuple[Any, ...]]) -> Write:
    """Check that the elements and units the new rows name exist, and keep them so until this
    transaction ends; fail (nothing stored) if one was deleted since the catalog was read.

    PostgreSQL: run before the inserts, it locks them FOR KEY SHARE as the foreign keys' checks
    did, so a delete waits for the import (and the triggers of migration 0023 then refuse it).
    SQLite: run after the inserts, when this transaction holds the database's one write lock,
    so no delete can come between; one committed before is seen."""
    if not inserts:
        return no_write
    wanted = {name: sorted({row[INSERT_COLUMNS.index(name)] for row in inserts})
              for name in _PARENTS}  # fmt: skip

    def run(connection: Connection) -> None:
        for name, parent in _PARENTS.items():
            query = select(parent.c.id).where(parent.c.id.in_(wanted[name]))
            held = set(connection.scalars(query.with_for_update(read=True, key_share=True)))
            if missing := set(wanted[name]) - held:
                raise Conflict(
                    f"{name.removesuffix('_id')} id(s) {', '.join(map(str, sorted(missing)))} "
                    "deleted while the values were being stored; nothing was stored",
                    code="deleted_meanwhile",
                )

    return run


def _update_row(
    item: Checked, before: Stored, after: Stored
) -> tuple[int, str, float | None, str | None]:
    assert before.id is not None
    return before.id, after.value, item.numeric, after.comment


def audit_import(session: Session, stamp: Stamp, counts: dict[str, int], units: set[int]) -> None:
    """One audit entry per import: the values' own history is in data_value_changes."""
    actor = get_actor(session)
    changed = counts["imported"] + counts["updated"] + counts["deleted"]
    label = f"{changed} values ({stamp.source})"
    session.connection().execute(
        insert(AuditEntry),
        [
            {
                "at": stamp.now,
                "actor_id": actor.user_id,
                "actor": actor.name,
                "via": actor.via,
                "client_ip": actor.client_ip,
                "request_id": actor.request_id,
                "action": "import",
                "entity_type": "data_values",
                "entity_id": "*",
                "entity_label": label,
                "unit_id": next(iter(units)) if len(units) == 1 else None,
                "before": None,
                "after": counts | {"source": stamp.source},
                "note": (stamp.source_detail or stamp.source)[:500],
            }
        ],
    )
