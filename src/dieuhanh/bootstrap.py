"""Bringing a database to a usable state: schema, official units, departments, the admin account.

Each step is idempotent and remembers what it loaded (app_meta), so a second start is quick.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from importlib import resources

import vietnam_provinces

from dieuhanh.auth.service import create_user, find_user, set_password
from dieuhanh.core.access import Role
from dieuhanh.core.db import migrate
from dieuhanh.core.db.actor import Actor, set_actor
from dieuhanh.core.db.meta import get_meta, set_meta
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.passwords import generate_password
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators import loader
from dieuhanh.units.catalog import load_reference
from dieuhanh.units.listfile import import_unit_list
from dieuhanh.units.service import canonical_code, find_unit

log = logging.getLogger(__name__)
ADMIN = "admin"
SETUP_ACTOR = Actor(name="system:setup", via="system")


@dataclass
class SetupResult:
    reference_loaded: bool = False
    departments_loaded: bool = False
    indicators_loaded: bool = False
    admin_password: str | None = None  # only when generated now: shown once, stored nowhere


def setup(runtime: Runtime) -> SetupResult:
    migrate.upgrade(runtime.engine)
    result = SetupResult()
    result.reference_loaded = ensure_reference(runtime)
    result.departments_loaded = ensure_departments(runtime)
    result.indicators_loaded = ensure_indicator_config(runtime)
    result.admin_password = ensure_admin(runtime)
    return result


def ensure_reference(runtime: Runtime) -> bool:
    with runtime.sessions() as session:
        set_actor(session, SETUP_ACTOR)
        if get_meta(session, "seed.reference") == vietnam_provinces.__version__:
            return False
        report = load_reference(session)
        set_meta(session, "seed.reference", vietnam_provinces.__version__)
        session.commit()
    log.info(
        "official units: %d provinces, %d communes/wards (%d new) from vietnam-provinces %s",
        report.provinces,
        report.communes,
        report.created,
        report.version,
    )
    if find_unit_code(runtime) is None:
        raise InvalidInput(
            f"province_code {runtime.settings.province_code} is not a province of "
            "vietnam-provinces; set DIEUHANH_PROVINCE_CODE to one of its codes (75 = Đồng Nai).",
            code="unknown_province",
        )
    return True


def find_unit_code(runtime: Runtime) -> str | None:
    with runtime.sessions() as session:
        unit = find_unit(session, runtime.settings.province_code)
        return unit.code if unit else None


def departments_file(runtime: Runtime) -> tuple[bytes, str]:
    path = runtime.settings.departments_file
    if path is not None:
        return path.read_bytes(), path.name
    data = resources.files("dieuhanh.units").joinpath("data/departments.csv").read_bytes()
    return data, "departments.csv"


def ensure_departments(runtime: Runtime) -> bool:
    data, filename = departments_file(runtime)
    digest = hashlib.sha256(data).hexdigest()
    with runtime.sessions() as session:
        set_actor(session, SETUP_ACTOR)
        if get_meta(session, "seed.departments") == digest:
            return False
        import_unit_list(
            session,
            data,
            filename,
            today=runtime.today(),
            default_parent=canonical_code(runtime.settings.province_code),
            source=f"departments:{filename}",
        )
        set_meta(session, "seed.departments", digest)
        session.commit()
    return True


def ensure_indicator_config(runtime: Runtime) -> bool:
    """Load the shipped indicator set (national-8, provincial) once; codes already present are
    kept as people edited them. A problem (a province whose departments lack STC) is logged, not
    fatal: ``dieuhanh indicators load`` reports it in full."""
    files = loader.shipped_files()
    digest = loader.digest(files)
    with runtime.sessions() as session:
        set_actor(session, SETUP_ACTOR)
        if get_meta(session, "seed.indicators") == digest:
            return False
        try:
            report = loader.load(session, files, province_code=runtime.settings.province_code)
        except InvalidInput as exc:
            log.warning("shipped indicator configuration not loaded: %s", exc.message)
            return False
        set_meta(session, "seed.indicators", digest)
        session.commit()
    log.info("shipped indicator configuration: %s", report.summary())
    return True


def ensure_admin(runtime: Runtime) -> str | None:
    """Create ``admin`` if missing; with DIEUHANH_ADMIN_PASSWORD set, (re)set its password.

    Returns the password only when one was generated now, for the caller to show once.
    """
    configured = runtime.settings.admin_password
    with runtime.sessions() as session:
        set_actor(session, SETUP_ACTOR)
        admin = find_user(session, ADMIN)
        if admin is None:
            password = configured.get_secret_value() if configured else generate_password()
            create_user(
                session,
                runtime.passwords,
                ADMIN,
                password,
                Role.PROVINCE_ADMIN.value,
                runtime.settings.province_code,
            )
            session.commit()
            return None if configured else password
        if configured and not runtime.passwords.verify(
            admin.password_hash, configured.get_secret_value()
        ):
            set_password(runtime.passwords, admin, configured.get_secret_value())
            admin.is_active = True
            session.commit()
    return None
