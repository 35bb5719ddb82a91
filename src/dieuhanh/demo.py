"""``dieuhanh demo``: a working IOC on an embedded SQLite file, from one command.

It runs the same setup as production (migrations, the official unit list, departments, the admin
account), then adds what a first look needs: the Đồng Nai boundaries through the ordinary
boundary import, and one account per role.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date
from importlib import resources

from dieuhanh.auth.service import UserFields, create_user, find_user
from dieuhanh.bootstrap import SETUP_ACTOR, SetupResult, setup
from dieuhanh.capabilities import subscriptions
from dieuhanh.core.access import Role
from dieuhanh.core.capability import DemoPart
from dieuhanh.core.db.actor import set_actor
from dieuhanh.core.db.meta import get_meta, set_meta
from dieuhanh.core.events.cursors import ensure_subscribers
from dieuhanh.core.passwords import generate_password
from dieuhanh.core.runtime import Runtime
from dieuhanh.gis.importer import ImportOptions, import_boundaries
from dieuhanh.units.search import search_units
from dieuhanh.units.service import get_unit

log = logging.getLogger(__name__)

DEMO_PROVINCE = "75"
BOUNDARY_FILE = "dong_nai_communes.geojson.gz"
BOUNDARY_ATTRIBUTION = (
    "Ranh giới xã, phường: NXB Tài nguyên Môi trường và Bản đồ Việt Nam, qua "
    "thanglequoc/vietnamese-provinces-database (MIT)"
)
# The file carries the 2026 names of ten communes that became phường. Its snapshot date is the
# earliest day we know those names held; the legal effective date is not in the source, and an
# operator who knows it can correct it with `dieuhanh units rename`.
BOUNDARY_NAMES_KNOWN_FROM = date(2026, 8, 2)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    role: Role
    unit_query: str  # a unit code, or a name searched within the province


DEMO_ACCOUNTS = (
    DemoAccount("vanhanh", "Trần Thị Vận Hành", Role.PROVINCE_OPERATOR, DEMO_PROVINCE),
    DemoAccount("soyte", "Lê Văn Y Tế", Role.DEPARTMENT_OFFICER, "SYT"),
    DemoAccount("locthanh", "Phạm Thị Lộc Thạnh", Role.COMMUNE_OFFICER, "Xã Lộc Thạnh"),
    DemoAccount("xem", "Hoàng Văn Xem", Role.VIEWER, DEMO_PROVINCE),
)


@dataclass
class DemoResult:
    setup: SetupResult
    boundaries_loaded: bool = False
    accounts_password: str | None = None  # generated now for the demo accounts, shown once
    accounts: list[DemoAccount] = field(default_factory=list)
    parts: list[DemoPart] = field(default_factory=list)  # each capability's; stop() them

    def stop(self) -> None:
        for part in self.parts:
            if part.stop is not None:
                part.stop()


def prepare(runtime: Runtime) -> DemoResult:
    """The province, its boundaries and accounts, then each capability's demo part."""
    result = DemoResult(setup=setup(runtime))
    if runtime.settings.province_code.zfill(2) != DEMO_PROVINCE:
        log.warning(
            "demo data is for Đồng Nai (75); province %s gets no boundaries or accounts",
            runtime.settings.province_code,
        )
        return result
    result.boundaries_loaded = ensure_boundaries(runtime)
    result.accounts_password = ensure_accounts(runtime)
    result.accounts = list(DEMO_ACCOUNTS)
    subscribe_first(runtime)
    for capability in runtime.capabilities:
        if capability.demo is not None:
            part = capability.demo(runtime)
            if part is not None:
                result.parts.append(part)
    return result


def subscribe_first(runtime: Runtime) -> None:
    """Create every subscriber's cursor before the demo parts publish.

    A new subscriber starts at the newest event, so that a deployment's first start does not
    replay its history; but the demo's parts publish while they seed (sample reports already
    late, escalated, resolved) before the background starts, and those events would fall
    before the cursors and never reach the alerts. A cursor that exists is left as it is."""
    declared = [(s.name, s.topics, s.start) for s in subscriptions(runtime)]
    with runtime.sessions() as session:
        ensure_subscribers(session, declared)
        session.commit()


def ensure_boundaries(runtime: Runtime) -> bool:
    data = resources.files("dieuhanh.gis").joinpath(f"data/{BOUNDARY_FILE}").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    with runtime.sessions() as session:
        set_actor(session, SETUP_ACTOR)
        if get_meta(session, "demo.boundaries") == digest:
            return False
        options = ImportOptions(
            province_code=DEMO_PROVINCE,
            today=runtime.today(),
            apply_names=True,
            effective=BOUNDARY_NAMES_KNOWN_FROM,
            attribution=BOUNDARY_ATTRIBUTION,
            imported_by=SETUP_ACTOR.name,
        )
        report = import_boundaries(session, data, BOUNDARY_FILE, options)
        set_meta(session, "demo.boundaries", digest)
        session.commit()
    log.info(
        "demo boundaries: %d of %d features joined, %d renames recorded",
        len(report.matched),
        report.features,
        len(report.name_differences),
    )
    return True


def ensure_accounts(runtime: Runtime) -> str | None:
    """One account per role. They share the admin's password when DIEUHANH_ADMIN_PASSWORD is
    set, else one generated password returned (once) for the banner."""
    configured = runtime.settings.admin_password
    password = configured.get_secret_value() if configured else generate_password()
    created = False
    with runtime.sessions() as session:
        set_actor(session, SETUP_ACTOR)
        province = get_unit(session, DEMO_PROVINCE)
        for account in DEMO_ACCOUNTS:
            if find_user(session, account.username) is not None:
                continue
            unit = (
                get_unit(session, account.unit_query)
                if account.unit_query.isalnum()
                else search_units(session, account.unit_query, within=province, limit=1)[0].unit
            )
            create_user(
                session,
                runtime.passwords,
                account.username,
                password,
                account.role.value,
                unit.code,
                UserFields(full_name=account.full_name),
            )
            created = True
        session.commit()
    return password if created and not configured else None
