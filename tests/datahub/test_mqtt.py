"""The MQTT connector against the Mosquitto broker on 127.0.0.1:1883: readings published while
no run is connected are kept by the broker (persistent session) and stored at the next run,
mapped to units by device and by location; a duplicate is stored once; a bad reading is named."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.publish as publish
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.models import SensorReading
from dieuhanh.datahub.runs import run_source
from dieuhanh.datahub.service import save_source
from dieuhanh.datahub.spec import parse_spec
from dieuhanh.units.models import Unit
from tests.conftest import LOC_THANH

BROKER = ("127.0.0.1", 1883)


@pytest.fixture
def prefix() -> str:
    """A topic tree of this test's own: tests on the one broker do not see each other."""
    return f"dieuhanh-test/{uuid.uuid4().hex[:8]}"


def declare(runtime: Runtime, prefix: str, **mapping: Any) -> str:
    code = "mqtt_" + prefix.rsplit("/", 1)[1]
    spec = {
        "code": code,
        "name": "Cảm biến mực nước, mưa",
        "kind": "mqtt",
        "config": {
            "broker": {"host": BROKER[0], "port": BROKER[1]},
            "topics": [f"{prefix}/+/+"],
            "idle_seconds": 0.5,
            "mapping": {
                "readings": {
                    "to": "series",
                    "device_topic_level": 2,
                    "metric_topic_level": 3,
                    "value_field": "payload.value",
                    "time_field": "payload.ts",
                    **mapping,
                }
            },
        },
    }
    with runtime.sessions() as session:
        set_actor(session, SYSTEM)
        save_source(session, parse_spec(spec))
        session.commit()
    return code


def send(prefix: str, device: str, metric: str, value: Any, at: datetime, **extra: Any) -> None:
    publish.single(
        f"{prefix}/{device}/{metric}",
        json.dumps({"value": value, "ts": at.isoformat(), **extra}),
        qos=1,
        hostname=BROKER[0],
        port=BROKER[1],
    )


def readings(runtime: Runtime) -> list[tuple[str, str, float, str | None]]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(SensorReading, Unit.code)
            .outerjoin(Unit, Unit.id == SensorReading.unit_id)
            .order_by(SensorReading.at)
        ).all()
    return [(r.device, r.metric, r.value, code) for r, code in rows]


def test_readings_between_runs_are_kept_and_stored_once(
    hub: Runtime, prefix: str, hub_client: TestClient, hub_auth: Callable[[str], dict[str, str]]
) -> None:
    code = declare(hub, prefix, devices={"WL-001": LOC_THANH})
    first = run_source(hub, code)  # subscribes: the broker keeps what comes next for us
    assert first.status == "succeeded", first.error
    start = datetime.now(UTC).replace(microsecond=0)
    for minute, level in enumerate((1.2, 1.5, 1.9)):
        send(prefix, "WL-001", "water_level", level, start + timedelta(minutes=minute))
    send(prefix, "WL-001", "water_level", 1.9, start + timedelta(minutes=2))  # delivered twice
    send(prefix, "WL-002", "rainfall", "nhiều", start)  # not a number
    second = run_source(hub, code)
    assert second.status == "succeeded", second.error
    assert (second.fetched, second.new, second.unchanged, second.rejected) == (5, 3, 1, 1)
    assert "'nhiều' is not a number" in second.problems[0]["message"]
    assert readings(hub) == [
        ("WL-001", "water_level", 1.2, LOC_THANH),
        ("WL-001", "water_level", 1.5, LOC_THANH),
        ("WL-001", "water_level", 1.9, LOC_THANH),
    ]
    quiet = run_source(hub, code)
    assert (quiet.status, quiet.fetched) == ("succeeded", 0)
    url = "/api/v1/sensors/readings?metric=water_level"
    newest = hub_client.get(url, headers=hub_auth("commune")).json()
    assert (newest[0]["device"], newest[0]["value"], newest[0]["unit"]) == (
        "WL-001",
        1.9,
        LOC_THANH,
    )
    assert len(newest) == 3
    assert hub_client.get(url, headers=hub_auth("commune2")).json() == []


def test_a_reading_is_placed_in_a_commune_by_its_location(hub: Runtime, prefix: str) -> None:
    code = declare(hub, prefix, lat_field="payload.lat", lon_field="payload.lon")
    run_source(hub, code)
    with hub.sessions() as session:
        from shapely.geometry import shape

        from dieuhanh.gis.models import Boundary

        boundary = session.scalars(
            select(Boundary)
            .join(Unit, Unit.id == Boundary.unit_id)
            .where(Unit.code == LOC_THANH, Boundary.valid_to.is_(None))
        ).one()
        point = shape(boundary.geometry).representative_point()
    send(prefix, "AQ-7", "pm25", 41.5, datetime.now(UTC), lat=point.y, lon=point.x)
    outcome = run_source(hub, code)
    assert (outcome.status, outcome.new) == ("succeeded", 1), outcome.problems
    assert readings(hub) == [("AQ-7", "pm25", 41.5, LOC_THANH)]


def test_a_broker_that_is_not_there_fails_the_run(
    database_url: str, make_runtime: Callable[..., Runtime], prefix: str
) -> None:
    from tests.datahub.conftest import HUB_SETTINGS

    runtime = make_runtime(database_url, datahub=HUB_SETTINGS)
    code = declare(runtime, prefix)
    with runtime.sessions() as session:
        from dieuhanh.datahub.models import DataSource

        source = session.scalars(select(DataSource).where(DataSource.code == code)).one()
        source.config = {**source.config, "broker": {"host": "127.0.0.1", "port": 1}}
        session.commit()
    outcome = run_source(runtime, code)
    assert outcome.status == "failed"
    assert "MQTT broker 127.0.0.1:1" in (outcome.error or "")


def test_a_batch_not_stored_is_delivered_again(
    hub: Runtime, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broker hears "received" only once the readings are stored: a run whose storing fails
    leaves them to the next run."""
    from dieuhanh.datahub import runs

    code = declare(hub, prefix, devices={"WL-001": LOC_THANH})
    assert run_source(hub, code).status == "succeeded"  # subscribed
    start = datetime.now(UTC).replace(microsecond=0)
    for minute, level in enumerate((2.1, 2.4)):
        send(prefix, "WL-001", "water_level", level, start + timedelta(minutes=minute))

    def database_down(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(runs._Store, "_series", database_down)
        failed = run_source(hub, code)
    assert failed.status == "failed" and "RuntimeError" in (failed.error or "")
    # The failed run let its connection go: no thread is left holding it for HOLD_SECONDS.
    assert [t for t in threading.enumerate() if t.name == f"mqtt dieuhanh-{code}"] == []
    assert readings(hub) == []
    again = run_source(hub, code)  # the same client id takes the session over
    assert (again.status, again.new) == ("succeeded", 2), again.error
    assert [value for _, _, value, _ in readings(hub)] == [2.1, 2.4]
    assert run_source(hub, code).fetched == 0  # acknowledged this time


def test_the_demo_sensors_publish_what_a_run_stores_without_error_logs(
    hub: Runtime, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    from dieuhanh.datahub.standins import SensorPublisher

    code = declare(hub, prefix, devices={"WL-001": LOC_THANH, "RF-001": LOC_THANH})
    assert run_source(hub, code).status == "succeeded"  # subscribed: the broker keeps the rest
    sensors = SensorPublisher({"WL-001": LOC_THANH, "RF-001": LOC_THANH}, *BROKER, prefix)
    with caplog.at_level(logging.DEBUG, logger="paho"):
        at = "2026-12-01T07:00:00+00:00"
        sensors._publish([
            (f"{prefix}/WL-001/water_level", json.dumps({"value": 1.7, "ts": at})),
            (f"{prefix}/RF-001/rainfall", json.dumps({"value": 12.5, "ts": at})),
        ])  # fmt: skip
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    stored = run_source(hub, code)
    assert (stored.status, stored.new) == ("succeeded", 2), stored.error
    assert sorted(readings(hub)) == [
        ("RF-001", "rainfall", 12.5, LOC_THANH),
        ("WL-001", "water_level", 1.7, LOC_THANH),
    ]
