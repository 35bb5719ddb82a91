"""The data hub's part of `dieuhanh demo`: an iGate stand-in on loopback, growing as time
passes, and the ready-made source that syncs from it every minute."""

from __future__ import annotations

from sqlalchemy import select

from dieuhanh.core.capability import DemoPart
from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.models import DataSource
from dieuhanh.datahub.service import save_source
from dieuhanh.datahub.spec import parse_spec
from dieuhanh.datahub.standins import IGateStandIn, igate_source
from dieuhanh.units.models import Unit
from dieuhanh.units.service import children, get_unit
from dieuhanh.units.types import COMMUNE_LEVEL

# The stand-in listens on loopback, which the data hub's network policy refuses by default.
DEMO_NETWORK = "127.0.0.1/32"
GROW_EVERY_SECONDS = 30


def start(runtime: Runtime) -> DemoPart:
    settings = runtime.settings
    if DEMO_NETWORK not in settings.datahub.allowed_networks:
        settings.datahub.allowed_networks.append(DEMO_NETWORK)
    with runtime.sessions() as session:
        province = get_unit(session, settings.province_code)
        communes: list[Unit] = children(session, province, COMMUNE_LEVEL)
        stand_in = IGateStandIn(
            [(unit.code, unit.name) for unit in communes], grow_every=GROW_EVERY_SECONDS
        )
        url = stand_in.start()
        set_actor(session, SYSTEM)
        # The port changes at every start: the source follows it (its history stays).
        spec = parse_spec(igate_source(url))
        existing = session.scalar(select(DataSource).where(DataSource.code == spec.code))
        if existing is None or existing.config != spec.config:
            save_source(session, spec)
        session.commit()
    return DemoPart(
        banner=[f"data hub:       iGate stand-in on {url} (synced every minute: /datahub)"],
        stop=stand_in.stop,
    )
