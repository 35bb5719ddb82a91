"""What a running DieuHanh process holds: settings, the database engine and shared services.

Built once by the app factory or a CLI command and passed along; nothing here is global.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dieuhanh import events
from dieuhanh.audit import recorder
from dieuhanh.auth.passwords import Passwords
from dieuhanh.cameras.credentials import CredentialCipher, load_or_create_key_file
from dieuhanh.config import Settings
from dieuhanh.db.engine import Timeouts, make_engine, make_session_factory
from dieuhanh.events import EventBus


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    passwords: Passwords
    events: EventBus
    credentials: CredentialCipher
    stream_secret: bytes | None  # signs stream URLs (gateway); None: not configured

    def today(self) -> date:
        """Today in the province's time zone (a UTC date is wrong between 0:00 and 7:00)."""
        return datetime.now(ZoneInfo(self.settings.timezone)).date()

    def close(self) -> None:
        self.engine.dispose()


def build_runtime(
    settings: Settings, *, engine: Engine | None = None, passwords: Passwords | None = None
) -> Runtime:
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = settings.database
    timeouts = Timeouts(
        lock=database.lock_timeout_seconds,
        statement=database.statement_timeout_seconds,
        pool=database.pool_timeout_seconds,
    )
    engine = engine or make_engine(settings.effective_database_url, timeouts)
    sessions = make_session_factory(engine)
    recorder.install(sessions)
    bus = EventBus()
    events.install(sessions, bus)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        passwords=passwords or Passwords(min_length=settings.auth.password_min_length),
        events=bus,
        credentials=CredentialCipher(_credential_keys(settings)),
        stream_secret=_stream_secret(settings),
    )


def _stream_secret(settings: Settings) -> bytes | None:
    if settings.gateway.secret is not None:
        return settings.gateway.secret.get_secret_value().encode()
    if not settings.database_url:
        return load_or_create_key_file(settings.data_dir, "gateway.key")
    return None


def _credential_keys(settings: Settings) -> list[bytes]:
    keys = [key.get_secret_value().encode() for key in settings.cameras.credential_keys]
    if not keys and not settings.database_url:
        keys = [load_or_create_key_file(settings.data_dir)]
    return keys
