"""What the gateway records: who watched which camera and when, and which nodes are alive."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dieuhanh.core.db.base import Base, UTCDateTime, utcnow


class CameraView(Base):
    """One stream URL handed to one viewer: issued by the API, started and ended by a node."""

    __tablename__ = "camera_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    quality: Mapped[str] = mapped_column(String(10))
    codec: Mapped[str] = mapped_column(String(10))
    transcoded: Mapped[bool] = mapped_column(Boolean)
    node: Mapped[str | None] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bytes_sent: Mapped[int] = mapped_column(BigInteger, default=0)


Index("ix_camera_views_camera_issued", CameraView.camera_id, CameraView.issued_at)


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
