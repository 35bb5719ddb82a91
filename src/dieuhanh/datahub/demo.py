"""The data hub's part of `dieuhanh demo`: stand-ins on loopback for iGate and the 1022 hotline
(APIs that grow and move on as time passes) and the Resolution 57 monitoring page (a web page);
simulated sensors on the local MQTT broker when there is one; an Excel upload template; and the
ready-made sources that read them on schedule."""

from __future__ import annotations

import socket

from sqlalchemy import select

from dieuhanh.core.capability import DemoPart
from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.models import DataSource
from dieuhanh.datahub.service import save_source
from dieuhanh.datahub.spec import parse_spec
from dieuhanh.datahub.standins import (
    HotlineStandIn,
    IGateStandIn,
    Nq57StandIn,
    SensorPublisher,
    documents_upload_source,
    hotline_source,
    igate_source,
    mqtt_source,
    nq57_source,
)
from dieuhanh.units.models import Unit
from dieuhanh.units.service import children, get_unit
from dieuhanh.units.types import COMMUNE_LEVEL

# The stand-in listens on loopback, which the data hub's network policy refuses by default.
DEMO_NETWORK = "127.0.0.1/32"
MQTT_BROKER = ("127.0.0.1", 1883)
GROW_EVERY_SECONDS = 30
HOTLINE_GROW_EVERY_SECONDS = 120  # a call arrives and an open case moves on


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
        hotline = HotlineStandIn(named, grow_every=HOTLINE_GROW_EVERY_SECONDS)
        igate_url, nq57_url, hotline_url = igate.start(), nq57.start(), hotline.start()
        set_actor(session, SYSTEM)
        declarations = (
            igate_source(igate_url),
            nq57_source(nq57_url),
            hotline_source(hotline_url),
            documents_upload_source(),
        )
        for declared in declarations:
            # The ports change at every start: the sources follow (their history stays).
            spec = parse_spec(declared)
            existing = session.scalar(select(DataSource).where(DataSource.code == spec.code))
            if existing is None or existing.config != spec.config:
                save_source(session, spec)
        session.commit()

    sensors = _sensors(runtime, named)

    def stop() -> None:
        for stand_in in (igate, nq57, hotline):
            stand_in.stop()
        if sensors is not None:
            sensors.stop()

    banner = [
        f"data hub:       stand-ins for iGate ({igate_url}), the 1022 hotline "
        f"({hotline_url}) and the Resolution 57 page ({nq57_url}), synced on schedule: "
        "/datahub"
    ]
    if sensors is not None:
        banner.append(f"sensors:        publishing to MQTT {MQTT_BROKER[0]}:{MQTT_BROKER[1]}")
    return DemoPart(banner=banner, stop=stop)


def _sensors(runtime: Runtime, communes: list[tuple[str, str]]) -> SensorPublisher | None:
    """Simulated water level and rainfall stations, when an MQTT broker listens on loopback
    (Mosquitto's default port); without one the demo simply has no sensor source."""
    try:
        socket.create_connection(MQTT_BROKER, timeout=0.5).close()
    except OSError:
        return None
    devices = {
        f"{kind}-{index:03d}": code
        for index, (code, _) in enumerate(communes[:: max(1, len(communes) // 6)][:6], start=1)
        for kind in ("WL", "RF")
    }
    prefix = "dongnai/sensors"
    with runtime.sessions() as session:
        set_actor(session, SYSTEM)
        spec = parse_spec(mqtt_source(*MQTT_BROKER, prefix, devices))
        existing = session.scalar(select(DataSource).where(DataSource.code == spec.code))
        if existing is None or existing.config != spec.config:
            save_source(session, spec)
        session.commit()
    publisher = SensorPublisher(devices, *MQTT_BROKER, prefix)
    publisher.start()
    return publisher
