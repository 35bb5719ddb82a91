"""`dieuhanh demo`'s data hub: the stand-ins start, the ready-made sources are declared and a
first sync round makes every fetching source live, as a new user would see it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub import demo
from dieuhanh.datahub.models import DatasetRecord, DataSource
from dieuhanh.datahub.service import sync_round


def test_the_demo_sources_sync_at_once(
    database_url: str, make_runtime: Callable[..., Runtime]
) -> None:
    runtime = make_runtime(database_url)  # the default network policy: the demo allows loopback
    part = demo.start(runtime)
    try:
        assert any("stand-ins for iGate" in line for line in part.banner)
        assert any("publishing to MQTT 127.0.0.1:1883" in line for line in part.banner)
        report = sync_round(runtime)
        assert (report.ran, report.failed) == (4, 0)
        with runtime.sessions() as session:
            states = {
                code: state
                for code, state in session.execute(select(DataSource.code, DataSource.state))
            }
            counts = {
                dataset: count
                for dataset, count in session.execute(
                    select(DatasetRecord.dataset, func.count()).group_by(DatasetRecord.dataset)
                )
            }
        assert states == {
            "igate_dossiers": "live",
            "nq57_progress": "live",
            "hotline_1022": "live",
            "sensors_mqtt": "live",  # Mosquitto listens on 1883 here: the sensors publish
            "docs_incoming_upload": "never",
        }
        assert counts["igate_dossiers"] == 400 and counts["hotline_1022"] == 150
        assert counts["nq57_progress"] == 95  # one row per commune of the province
        again = demo.start(runtime)  # a second start (new ports) updates them, no duplicates
        assert again.stop is not None
        again.stop()
        with runtime.sessions() as session:
            assert session.scalar(select(func.count()).select_from(DataSource)) == 5
    finally:
        assert part.stop is not None
        part.stop()
