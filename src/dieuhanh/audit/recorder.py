"""Records every change to an audited model, in the same transaction as the change.

A model opts in with ``__audited__ = True`` and may declare ``__audit_redact__`` (columns whose
values are secret or bulky: the log says they changed, not what to), ``__audit_ignore__``
(bookkeeping columns such as a last-login time, not changes anyone made), ``audit_unit_id`` (the
unit whose data it is, so the log can be read within a unit scope), ``audit_label`` and
``audit_enabled()``. Capabilities get auditing by declaring these; nothing else to call.

Who made the change travels on the session (``set_actor``), set once per request by the auth
dependency, per command by the CLI.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session, sessionmaker

from dieuhanh.audit.models import AuditEntry
from dieuhanh.core.db.actor import get_actor
from dieuhanh.core.db.base import utcnow

REDACTED = "«redacted»"
_SKIPPED_COLUMNS = frozenset({"created_at", "updated_at"})


def install(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "after_flush", _after_flush)


def _after_flush(session: Session, _context: Any) -> None:
    rows: list[dict[str, Any]] = []
    for action, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            row = _entry_for(action, obj)
            if row is not None:
                rows.append(row)
    if not rows:
        return
    actor = get_actor(session)
    note = session.info.get("audit_note")
    bulk_note = session.info.get("audit_bulk")
    if bulk_note:
        rows = _summarize(rows, bulk_note)
    now = utcnow()
    for row in rows:
        row.update(
            at=now,
            actor_id=actor.user_id,
            actor=actor.name,
            via=actor.via,
            client_ip=actor.client_ip,
            request_id=actor.request_id,
        )
        row.setdefault("note", note)
    session.connection().execute(insert(AuditEntry), rows)


def _entry_for(action: str, obj: Any) -> dict[str, Any] | None:
    if not getattr(obj, "__audited__", False):
        return None
    enabled = getattr(obj, "audit_enabled", None)
    if enabled is not None and not enabled():
        return None
    state = inspect(obj)
    redact: frozenset[str] = getattr(obj, "__audit_redact__", frozenset())
    ignore = _SKIPPED_COLUMNS | getattr(obj, "__audit_ignore__", frozenset())
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in ignore:
            continue
        history = state.attrs[key].history
        if action == "update":
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old == new:
                continue
            before[key] = REDACTED if key in redact else _jsonable(old)
            after[key] = REDACTED if key in redact else _jsonable(new)
        else:
            value = getattr(obj, key)
            if value is None:
                continue  # a created or deleted record: its empty fields say nothing
            target = after if action == "create" else before
            target[key] = REDACTED if key in redact else _jsonable(value)
    if action == "update" and not after:
        return None
    # state.identity is not set yet for rows inserted by this flush; the key values are.
    identity = state.mapper.primary_key_from_instance(obj)
    return {
        "action": action,
        "entity_type": state.mapper.local_table.name,
        "entity_id": ",".join(str(part) for part in identity),
        "entity_label": _safe_label(obj),
        "unit_id": getattr(obj, "audit_unit_id", None),
        "before": before or None,
        "after": after or None,
    }


def _summarize(rows: list[dict[str, Any]], note: str) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["entity_type"], row["action"]), []).append(row)
    summary = []
    for (entity_type, action), members in groups.items():
        ids = [row["entity_id"] for row in members]
        summary.append(
            {
                "action": action,
                "entity_type": entity_type,
                "entity_id": "*",
                "entity_label": f"{len(members)} rows",
                "unit_id": None,
                "before": None,
                "after": {"count": len(members), "first_ids": ids[:20]},
                "note": note,
            }
        )
    return summary


def _safe_label(obj: Any) -> str | None:
    label = getattr(obj, "audit_label", None)
    return str(label)[:300] if label is not None else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return REDACTED
    return value
