"""A threshold over a sensor series, end to end: readings through the Mosquitto broker into the
data hub, ``sensor.reading`` events, a rule "water level over 3.5 m three readings in a row"
raising one alert for the station's commune, cleared when the level falls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dieuhanh.alerts.models import Alert
from dieuhanh.alerts.rules import RuleSpec
from dieuhanh.alerts.service import store_rule
from dieuhanh.alerts.subscriber import subscriptions
from dieuhanh.core.events import EventRecord
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.runs import run_source
from tests.alerts.conftest import only_rules
from tests.conftest import LOC_THANH
from tests.core.kit import deliver, subscribe
from tests.datahub.conftest import HUB_SETTINGS
from tests.datahub.test_mqtt import declare, prefix, send

prefix = prefix  # the fixture: this test's own MQTT topic tree
RULE = {"code": "water_level_high", "name": "Mực nước vượt báo động 1",
        "topic": "sensor.reading", "when": "metric == 'water_level' and value > 3.5",
        "clear": "metric == 'water_level' and value <= 3.2", "subject": "sensor:{device}",
        "title": "Mực nước tại trạm {device} vượt báo động: {value} m", "times": 3,
        "severity": "critical"}  # fmt: skip


def test_water_level_over_a_threshold_three_times_in_a_row(
    database_url: str, make_runtime: Callable[..., Runtime], prefix: str
) -> None:
    hub = make_runtime(database_url, datahub=HUB_SETTINGS)
    only_rules(hub)
    with hub.sessions() as session:
        store_rule(session, RuleSpec.model_validate(RULE))
        session.commit()
    subscribe(hub.sessions, *subscriptions(hub))
    (subscription,) = subscriptions(hub)
    code = declare(hub, prefix, devices={"WL-001": LOC_THANH})
    run_source(hub, code)  # subscribes; the broker keeps what comes next
    start = datetime.now(UTC).replace(microsecond=0)
    levels = [3.0, 3.6, 3.7, 3.9, 4.1, 3.1]
    for minute, level in enumerate(levels):
        send(prefix, "WL-001", "water_level", level, start + timedelta(minutes=minute))
        assert run_source(hub, code).new == 1  # one batch each: one event each
        deliver(hub.sessions, subscription)
        with hub.sessions() as session:
            states = [a.state for a in session.scalars(select(Alert))]
        # Raised at the third reading over 3.5 m (minute 3), resolved when it fell to 3.1.
        assert states == ([] if minute < 3 else ["open"] if minute < 5 else ["resolved"]), minute
    with hub.sessions() as session:
        alert = session.scalars(select(Alert)).one()
        assert alert.title == "Mực nước tại trạm WL-001 vượt báo động: 3.9 m"
        assert alert.occurrences == 2 and alert.unit_id is not None
        events = session.scalars(
            select(EventRecord.payload).where(EventRecord.topic == "sensor.reading")
        ).all()
        assert [e["value"] for e in events] == levels
        assert {e["unit_code"] for e in events} == {LOC_THANH}
