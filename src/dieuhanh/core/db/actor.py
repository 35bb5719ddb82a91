"""Who is making the changes of a session: set once per request, command or job.

The kernel carries it on the session (``session.info``) so that any capability can read it —
the audit log records it with every change — without the HTTP layer importing that capability.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Actor:
    name: str
    via: str  # web, api, cli, system
    user_id: int | None = None
    client_ip: str | None = None
    request_id: str | None = None


SYSTEM = Actor(name="system", via="system")


def set_actor(session: Session, actor: Actor) -> None:
    session.info["actor"] = actor


def get_actor(session: Session) -> Actor:
    actor = session.info.get("actor")
    return actor if isinstance(actor, Actor) else SYSTEM


def set_note(session: Session, note: str | None) -> None:
    """A note attached to every entry of the next flushes (e.g. "import of departments.csv")."""
    session.info["audit_note"] = note


@contextlib.contextmanager
def bulk(session: Session, note: str) -> Iterator[None]:
    """Within this block, one summary entry per table and action replaces one entry per row.

    Only for loading reference data from a named source (the official unit list): thousands of
    identical "created" entries would bury the changes people make.
    """
    session.info["audit_bulk"] = note
    try:
        yield
        session.flush()
    finally:
        session.info.pop("audit_bulk", None)
