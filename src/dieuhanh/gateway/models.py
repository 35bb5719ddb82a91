"""What the gateway records: which nodes are alive (who watched what is the embedder's)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dieuhanh.core.db.base import Base, UTCDateTime, utcnow


class GatewayNodeRecord(Base):
    """A `dieuhanh gateway` process; alive while its heartbeat is recent."""

    __tablename__ = "gateway_nodes"

    node_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    public_url: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    streams: Mapped[int] = mapped_column(Integer, default=0)
    viewers: Mapped[int] = mapped_column(Integer, default=0)
    transcodes: Mapped[int] = mapped_column(Integer, default=0)
    max_transcodes: Mapped[int] = mapped_column(Integer, default=0)
