"""Storage: the engine, sessions, shared column types and the Alembic migrations."""

from dieuhanh.db.base import Base, UTCDateTime, utcnow
from dieuhanh.db.engine import make_engine, make_session_factory

__all__ = ["Base", "UTCDateTime", "make_engine", "make_session_factory", "utcnow"]
