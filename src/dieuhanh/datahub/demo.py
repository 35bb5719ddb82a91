"""The data hub's part of `dieuhanh demo`: stand-ins on loopback for iGate (an API, growing as
time passes, synced every minute) and the Resolution 57 monitoring page (a web page, read every
ten minutes), with the ready-made sources that read them."""

from __future__ import annotations

from sqlalchemy import select

from dieuhanh.core.capability import DemoPart
from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.models import DataSource
from dieuhanh.datahub.service import save_source
from dieuhanh.datahub.spec import parse_spec
from dieuhanh.datahub.standins import (
    IGateStandIn,
    Nq57StandIn,
    documents_upload_source,
    igate_source,
    nq57_source,
)
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
        named = [(unit.code, unit.name) for unit in communes]
        igate = IGateStandIn(named, grow_every=GROW_EVERY_SECONDS)
        nq57 = Nq57StandIn(named)
        igate_url, nq57_url = igate.start(), nq57.start()
        set_actor(session, SYSTEM)
        for declared in (igate_source(igate_url), nq57_source(nq57_url), documents_upload_source()):
            # The ports change at every start: the sources follow (their history stays).
            spec = parse_spec(declared)
            existing = session.scalar(select(DataSource).where(DataSource.code == spec.code))
            if existing is None or existing.config != spec.config:
                save_source(session, spec)
        session.commit()

    def stop() -> None:
        igate.stop()
        nq57.stop()

    return DemoPart(
        banner=[
            f"data hub:       iGate stand-in on {igate_url}, Resolution 57 page on {nq57_url} "
            "(synced on schedule: /datahub)"
        ],
        stop=stop,
    )
