"""Reading and writing data values in bulk: the stored values of a batch in one query, inserts,
updates, deletes and history rows with Core executemany, and one audit entry per import.

Split from :mod:`dieuhanh.indicators.values.save`, which decides what to write; this module only
writes it, fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, text
from sqlalchemy.orm import Session

from dieuhanh.audit.models import AuditEntry
from dieuhanh.core.db.actor import get_actor
from dieuhanh.indicators.catalog.catalog import ElementInfo
from dieuhanh.indicators.catalog.models import DataValue, DataValueChange
from dieuhanh.indicators.catalog.periods import Period
from dieuhanh.indicators.values.bulkwrite import insert_rows, update_values

VALUES = cast(Table, DataValue.__table__)
CHANGES = cast(Table, DataValueChange.__table__)
# (element id, unit id, period code, option)
Key = tuple[int, int, str, str]


@dataclass(frozen=True)
class Stamp:
    """Who writes, from where, when: the same on every row of one save."""

    source: str
    source_detail: str | None
    who: str
    now: datetime


@dataclass(frozen=True, slots=True)
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


def fetch_stored(session: Session, checked: list[Checked]) -> dict[Key, Stored | None]:
    """The stored value of each checked key (None: none stored), in one query.

    PostgreSQL joins the exact keys as arrays (``unnest``); SQLite takes one IN list per key
    column and the exact keys are picked here. A row-value IN of thousands of tuples is a scan of
    the whole table on SQLite and a thousands-term OR on PostgreSQL (measured with
    bench/indicators.py: 443 values/s on PostgreSQL with 2 M values stored, 6,900 with IN lists).
    """
    found: dict[Key, Stored | None] = dict.fromkeys([item.key for item in checked])
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        keys = list(found)
        rows = connection.execute(
            _STORED_BY_KEYS,
            {
                "elements": _array_text([str(key[0]) for key in keys]),
                "units": _array_text([str(key[1]) for key in keys]),
                "periods": _array_text([_quoted(key[2]) for key in keys]),
                "options": _array_text([_quoted(key[3]) for key in keys]),
            },
        )
    else:
        rows = connection.execute(
            select(
                DataValue.element_id, DataValue.unit_id, DataValue.period_code, DataValue.option,
                DataValue.id, DataValue.value, DataValue.comment,
            ).where(
                DataValue.element_id.in_(sorted({key[0] for key in found})),
                DataValue.unit_id.in_(sorted({key[1] for key in found})),
                DataValue.period_code.in_(sorted({key[2] for key in found})),
            )
        )  # fmt: skip
    for element_id, unit_id, period_code, option, value_id, value, comment in rows:
        key = (element_id, unit_id, period_code, option)
        if key in found:
            found[key] = Stored(value_id, value, comment)
    return found


def _array_text(items: list[str]) -> str:
    """A PostgreSQL array literal: psycopg adapts a list item by item (0.4 s per 100,000 keys
    of 4 columns), this one string is parsed by the server."""
    return "{" + ",".join(items) + "}"


def _quoted(item: str) -> str:
    return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'


_STORED_BY_KEYS = text(
    "SELECT d.element_id, d.unit_id, d.period_code, d.option, d.id, d.value, d.comment "
    "FROM data_values AS d JOIN unnest(CAST(:elements AS integer[]), CAST(:units AS integer[]), "
    "CAST(:periods AS text[]), CAST(:options AS text[])) AS k(element_id, unit_id, period_code, "
    "option) ON d.element_id = k.element_id AND d.unit_id = k.unit_id "
    "AND d.period_code = k.period_code AND d.option = k.option"
)


def change_row(
    stamp: Stamp, item: Checked, action: str, before: Stored | None, after: Stored | None
) -> dict[str, Any]:
    element_id, unit_id, period_code, option = item.key
    return {
        "element_id": element_id,
        "unit_id": unit_id,
        "period_code": period_code,
        "option": option,
        "action": action,
        "old_value": before.value if before else None,
        "new_value": after.value if after else None,
        "source": stamp.source,
        "source_detail": stamp.source_detail,
        "changed_by": stamp.who,
        "changed_at": stamp.now,
    }


def write(
    session: Session,
    stamp: Stamp,
    original: dict[Key, Stored | None],
    final: dict[Key, Stored | None],
    latest: dict[Key, Checked],
    changes: list[dict[str, Any]],
) -> None:
    """Bring the table from ``original`` to ``final`` for the keys ``latest`` names, and add the
    history rows ``changes``."""
    inserts: list[dict[str, Any]] = []
    updates: list[tuple[int, str, float | None, str | None]] = []
    deletes: list[int | None] = []
    for key, item in latest.items():
        before, after = original.get(key), final.get(key)
        if before is not None and after is None:
            deletes.append(before.id)
        elif after is not None and before is None:
            inserts.append(_insert_row(stamp, item, after))
        elif after is not None and before is not None:
            updates.append(_update_row(item, before, after))
    connection = session.connection()
    if deletes:
        connection.execute(delete(DataValue).where(DataValue.id.in_(deletes)))
    constants = {
        "source": stamp.source,
        "source_detail": stamp.source_detail,
        "stored_by": stamp.who,
        "updated_at": stamp.now,
    }
    update_values(connection, VALUES, updates, constants)
    insert_rows(connection, VALUES, inserts)
    insert_rows(connection, CHANGES, changes)


def _insert_row(stamp: Stamp, item: Checked, after: Stored) -> dict[str, Any]:
    element_id, unit_id, period_code, option = item.key
    return {
        "element_id": element_id,
        "unit_id": unit_id,
        "period_code": period_code,
        "period_type": item.period.type.value,
        "period_start": item.period.start,
        "period_end": item.period.end,
        "option": option,
        "value": after.value,
        "numeric": item.numeric,
        "comment": after.comment,
        "source": stamp.source,
        "source_detail": stamp.source_detail,
        "stored_by": stamp.who,
        "created_at": stamp.now,
        "updated_at": stamp.now,
    }


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
