"""Which gateway node serves which camera, and which nodes are alive.

Rendezvous (highest random weight) hashing: each camera goes to the live node scoring highest for
it. Every API replica computes the same answer from the same list of nodes, with no coordination;
when a node leaves, only its cameras move (to their second-best node), and when one joins it takes
its share from every node.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.db.base import utcnow
from dieuhanh.gateway.models import GatewayNodeRecord

MISSED_HEARTBEATS = 3  # a node silent for this many heartbeats is taken as gone


def score(node_id: str, camera_id: int) -> int:
    digest = hashlib.blake2b(f"{node_id}\x00{camera_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def node_for(camera_id: int, node_ids: list[str]) -> str | None:
    if not node_ids:
        return None
    return max(node_ids, key=lambda node_id: (score(node_id, camera_id), node_id))


def alive_nodes(
    session: Session, heartbeat_seconds: float, now: datetime | None = None
) -> list[GatewayNodeRecord]:
    now = now or utcnow()
    limit = now - timedelta(seconds=heartbeat_seconds * MISSED_HEARTBEATS)
    return list(
        session.scalars(
            select(GatewayNodeRecord)
            .where(GatewayNodeRecord.heartbeat_at >= limit)
            .order_by(GatewayNodeRecord.node_id)
        )
    )


def beat(
    session: Session, node_id: str, public_url: str, stats: dict[str, int], max_transcodes: int
) -> None:
    record = session.get(GatewayNodeRecord, node_id)
    if record is None:
        record = GatewayNodeRecord(node_id=node_id, public_url=public_url, started_at=utcnow())
        session.add(record)
    record.public_url = public_url
    record.heartbeat_at = utcnow()
    record.streams = stats.get("streams", 0)
    record.viewers = stats.get("viewers", 0)
    record.transcodes = stats.get("transcodes", 0)
    record.max_transcodes = max_transcodes


def leave(session: Session, node_id: str) -> None:
    record = session.get(GatewayNodeRecord, node_id)
    if record is not None:
        session.delete(record)
