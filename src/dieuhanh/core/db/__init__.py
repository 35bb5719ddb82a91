"""Storage: the engine, sessions, shared column types and the Alembic migrations."""

from dieuhanh.core.db.base import Base, UTCDateTime, utcnow
from dieuhanh.core.db.engine import make_engine, make_session_factory

__all__ = ["Base", "UTCDateTime", "make_engine", "make_session_factory", "utcnow"]
