"""Fixtures shared by every capability's tests.

Storage runs on both databases: each test that asks for ``runtime`` (or anything built on it) runs
once on SQLite and once on the PostgreSQL server at 127.0.0.1:5432. A template database, migrated
and loaded with the official units, the departments, the Đồng Nai boundaries and one account per
role, is built once per backend; every test gets its own copy (a file copy for SQLite,
``CREATE DATABASE … TEMPLATE`` for PostgreSQL), so tests never share state.

``DIEUHANH_TEST_DATABASES=sqlite`` limits a developer run to SQLite; CI runs both.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from dieuhanh import demo
from dieuhanh.app import create_app
from dieuhanh.auth.service import create_user
from dieuhanh.bootstrap import setup
from dieuhanh.capabilities import build_runtime
from dieuhanh.core.access import Role
from dieuhanh.core.config import PRIVATE_NETWORKS, Settings, load_settings
from dieuhanh.core.passwords import Passwords
from dieuhanh.core.runtime import Runtime

POSTGRES_ADMIN_URL = os.environ.get(
    "DIEUHANH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [
    b for b in os.environ.get("DIEUHANH_TEST_DATABASES", "sqlite,postgresql").split(",") if b
]
PASSWORD = "mật-khẩu-thử-nghiệm-1"
LOC_THANH = "25280"  # Xã Lộc Thạnh
LONG_THANH = "26368"  # Phường Long Thành (a xã until 2026)


@dataclass(frozen=True)
class Account:
    username: str
    role: Role
    unit_code: str


# One account per role, and a second commune officer to test that communes cannot see each other.
ACCOUNTS = (
    Account("admin", Role.PROVINCE_ADMIN, "75"),
    Account("operator", Role.PROVINCE_OPERATOR, "75"),
    Account("dept", Role.DEPARTMENT_OFFICER, "SYT"),
    Account("commune", Role.COMMUNE_OFFICER, LOC_THANH),
    Account("commune2", Role.COMMUNE_OFFICER, LONG_THANH),
    Account("viewer", Role.VIEWER, "75"),
    Account("viewer_commune", Role.VIEWER, LOC_THANH),
)


@pytest.fixture(scope="session")
def passwords() -> Passwords:
    # Argon2id with test-sized costs: the algorithm is the same, the suite stays fast.
    return Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1), min_length=12)


# A fixed Fernet key for camera credentials in tests (production keys come from the config).
CREDENTIAL_KEY = "dGVzdC1rZXktZm9yLWRpZXVoYW5oLXRlc3RzLTMyYmI="


# The test cameras are real servers on loopback, which production refuses (issue #10).
TEST_CAMERA_NETWORKS = [*PRIVATE_NETWORKS, "127.0.0.0/8"]


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    cameras = dict(overrides.get("cameras") or {})  # type: ignore[call-overload]
    cameras.setdefault("credential_keys", [CREDENTIAL_KEY])
    cameras.setdefault("allowed_networks", TEST_CAMERA_NETWORKS)
    overrides["cameras"] = cameras
    overrides.setdefault("gateway", {"secret": "test-gateway-secret"})
    return load_settings(database_url=database_url, data_dir=data_dir, **overrides)


class Backend:
    """Creates throw-away databases of one kind, copies of a template."""

    name: str

    def create_empty(self) -> str:
        raise NotImplementedError

    def set_template(self, url: str) -> None:
        raise NotImplementedError

    def copy_template(self) -> str:
        raise NotImplementedError

    def drop(self, url: str) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass


class SqliteBackend(Backend):
    name = "sqlite"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.counter = itertools.count()
        self.template = self.root / "template.db"

    def create_empty(self) -> str:
        return f"sqlite:///{self.root / f'db{next(self.counter)}.db'}"

    def set_template(self, url: str) -> None:
        shutil.copyfile(url.removeprefix("sqlite:///"), self.template)

    def copy_template(self) -> str:
        target = self.root / f"db{next(self.counter)}.db"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self) -> None:
        self.admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with self.admin.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            raise RuntimeError(
                f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({exc.__class__.__name__}). "
                "Start it, or run with DIEUHANH_TEST_DATABASES=sqlite."
            ) from exc
        self.prefix = f"dh_test_{uuid.uuid4().hex[:8]}"
        self.counter = itertools.count()
        self.template: str | None = None
        self.created: list[str] = []

    def _url(self, name: str) -> str:
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    def _create(self, suffix: str, template: str | None = None) -> str:
        name = f"{self.prefix}_{suffix}"
        clause = f" TEMPLATE {template}" if template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)
        return self._url(name)

    def create_empty(self) -> str:
        return self._create(str(next(self.counter)))

    def set_template(self, url: str) -> None:
        self.template = url.rsplit("/", 1)[1]

    def copy_template(self) -> str:
        return self._create(str(next(self.counter)), self.template)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def finish(self) -> None:
        for name in list(self.created):
            self.drop(self._url(name))
        self.admin.dispose()


def seed_template(url: str, data_dir: Path, passwords: Passwords) -> None:
    """Everything `dieuhanh demo` sets up, plus one account per role."""
    runtime = build_runtime(
        make_settings(url, data_dir, admin_password=PASSWORD), passwords=passwords
    )
    try:
        setup(runtime)
        demo.ensure_boundaries(runtime)
        with runtime.sessions() as session:
            for account in ACCOUNTS:
                if account.username != "admin":
                    create_user(
                        session,
                        passwords,
                        account.username,
                        PASSWORD,
                        account.role.value,
                        account.unit_code,
                    )
            session.commit()
        if runtime.engine.dialect.name == "sqlite":
            with runtime.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        runtime.close()


class BackendPool:
    """One seeded template per kind of database, built when first asked for."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory, passwords: Passwords) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.passwords = passwords
        self.backends: dict[str, Backend] = {}

    def get(self, kind: str) -> Backend:
        if kind not in self.backends:
            backend: Backend = (
                SqliteBackend(self.tmp_path_factory.mktemp("sqlite"))
                if kind == "sqlite"
                else PostgresBackend()
            )
            template_url = backend.create_empty()
            seed_template(
                template_url, self.tmp_path_factory.mktemp("template-data"), self.passwords
            )
            backend.set_template(template_url)
            self.backends[kind] = backend
        return self.backends[kind]

    def finish(self) -> None:
        for backend in self.backends.values():
            backend.finish()


@pytest.fixture(scope="session")
def backend_pool(
    tmp_path_factory: pytest.TempPathFactory, passwords: Passwords
) -> Iterator[BackendPool]:
    pool = BackendPool(tmp_path_factory, passwords)
    yield pool
    pool.finish()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, backend_pool: BackendPool) -> Backend:
    return backend_pool.get(request.param)


@pytest.fixture
def database_url(backend: Backend) -> Iterator[str]:
    """A fresh copy of the seeded template."""
    url = backend.copy_template()
    yield url
    backend.drop(url)


@pytest.fixture
def sqlite_runtime(
    backend_pool: BackendPool, make_runtime: Callable[..., Runtime]
) -> Iterator[Runtime]:
    """For tests of things above storage (the browser UI, the CLI): one database is enough."""
    backend = backend_pool.get("sqlite")
    url = backend.copy_template()
    yield make_runtime(url)
    backend.drop(url)


@pytest.fixture
def empty_database_url(backend: Backend) -> Iterator[str]:
    """A database with nothing in it, not even the schema."""
    url = backend.create_empty()
    yield url
    backend.drop(url)


@pytest.fixture
def make_runtime(tmp_path: Path, passwords: Passwords) -> Iterator[Callable[..., Runtime]]:
    made: list[Runtime] = []

    def build(url: str, **overrides: object) -> Runtime:
        runtime = build_runtime(make_settings(url, tmp_path, **overrides), passwords=passwords)
        made.append(runtime)
        return runtime

    yield build
    for runtime in made:
        runtime.close()


@pytest.fixture
def runtime(database_url: str, make_runtime: Callable[..., Runtime]) -> Runtime:
    return make_runtime(database_url)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as test_client:
        yield test_client


def token_for(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def login_form(client: TestClient, username: str, password: str = PASSWORD, next: str = "/") -> Any:
    """Log in through the login form as a browser does: the page first (its CSRF token and
    pre-session cookie), then the form. Returns the form's response (a 303 when it worked).
    A session the client already has is dropped first (the login page would redirect)."""
    client.cookies.delete("dieuhanh_session")
    page = client.get("/login")
    csrf = page.text.split('name="login_csrf" value="')[1].split('"')[0]
    return client.post(
        "/login",
        data={"username": username, "password": password, "next": next, "login_csrf": csrf},
        follow_redirects=False,
    )


@pytest.fixture
def auth(client: TestClient) -> Callable[[str], dict[str, str]]:
    """``auth("commune")`` → headers carrying a fresh token of that test account."""
    return lambda username: token_for(client, username)


@pytest.fixture
def server(sqlite_runtime: Runtime) -> Iterator[str]:
    """The app on a real port. Browser tests exercise the UI; storage is covered on both
    databases elsewhere, so they run on the SQLite copy."""
    from tests.browser import serving

    with serving(sqlite_runtime) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from tests.browser import chromium

    with chromium() as instance:
        yield instance


@pytest.fixture
def page(browser: object, server: str) -> Iterator[object]:
    from playwright.sync_api import Browser

    from tests.browser import offline_page

    assert isinstance(browser, Browser)
    with offline_page(browser, server) as opened:
        yield opened
