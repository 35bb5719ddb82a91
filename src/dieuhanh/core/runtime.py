"""What a running DieuHanh process holds: settings, the database engine and shared services.

Built once by the app factory or a CLI command and passed along; nothing here is global.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dieuhanh.core.capability import Capability, Extensions
from dieuhanh.core.config import Settings
from dieuhanh.core.db.engine import Timeouts, make_engine, make_session_factory
from dieuhanh.core.events import TopicRegistry, bind_topics
from dieuhanh.core.passwords import Passwords
from dieuhanh.core.secrets import CredentialCipher, load_or_create_key_file


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    passwords: Passwords
    topics: TopicRegistry  # the event topics declared by the capabilities
    credentials: CredentialCipher
    stream_secret: bytes | None  # signs stream URLs (gateway); None: not configured
    capabilities: Sequence[Capability] = ()
    extensions: Extensions = field(default_factory=Extensions)

    def today(self) -> date:
        """Today in the province's time zone (a UTC date is wrong between 0:00 and 7:00)."""
        return datetime.now(ZoneInfo(self.settings.timezone)).date()

    def close(self) -> None:
        self.engine.dispose()


def build_runtime(
    settings: Settings,
    *,
    engine: Engine | None = None,
    passwords: Passwords | None = None,
    capabilities: Sequence[Capability] = (),
) -> Runtime:
    """The kernel's part of a process, then each capability's ``on_runtime`` hook (e.g. the audit
    recorder on every session). ``dieuhanh.capabilities.build_runtime`` passes the product's
    list."""
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
    # Every topic a capability declares: publishing checks its payload against them.
    topics = TopicRegistry([topic for capability in capabilities for topic in capability.topics])
    bind_topics(sessions, topics)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        passwords=passwords or Passwords(min_length=settings.auth.password_min_length),
        topics=topics,
        credentials=CredentialCipher(_credential_keys(settings)),
        stream_secret=_stream_secret(settings),
        capabilities=tuple(capabilities),
        extensions=Extensions(capabilities),
    )
    for capability in capabilities:
        if capability.on_runtime is not None:
            capability.on_runtime(runtime)
    return runtime


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
