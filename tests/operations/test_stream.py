"""The live stream of the operations view names the layers an event changed, through a real
server on both databases; the event log is read by topic, one query per poll."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

from dieuhanh.core.events import latest_event_id, publish
from dieuhanh.core.runtime import Runtime
from dieuhanh.operations import service
from tests.alerts.conftest import camera_event, publish_camera
from tests.browser import serving
from tests.conftest import LOC_THANH, PASSWORD


def sensor_event() -> dict[str, Any]:
    return {"source": "s", "device": "WL-001", "metric": "water_level", "unit_code": LOC_THANH,
            "value": 3.2, "at": camera_event("dead")["at"]}  # fmt: skip


def test_events_map_to_the_layers_they_change(runtime: Runtime) -> None:
    layers = service.layers_of(runtime)
    with runtime.sessions() as session:
        start = latest_event_id(session)
        publish(session, "camera.state_changed", camera_event("dead"))
        publish(session, "sensor.reading", sensor_event())
        session.commit()
        last, changed, read = service.changes_after(session, layers, start, batch=100)
        assert (changed, read) == ({"cameras", "sensors"}, 2)
        assert service.changes_after(session, layers, last, batch=100)[1:] == (set(), 0)
        assert service.changes_after(session, layers, start, batch=1)[1] == {"cameras"}
    assert service.layers_changed_by(layers, "citizen_report.created") == ["reports"]
    assert service.layers_changed_by(layers, "alert.raised") == ["alerts"]
    assert service.layers_changed_by(layers, "directive.updated") == ["directives"]
    assert service.layers_changed_by(layers, "data_values.changed") == ["indicator"]
    assert service.layers_changed_by(layers, "source.state_changed") == []


def sse_events(url: str, token: str) -> Iterator[tuple[str, dict[str, Any]]]:
    request = urllib.request.Request(f"{url}/api/v1/operations/stream",
                                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as answer:
        kind = ""
        for raw in answer:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                yield kind, json.loads(line[6:])


def login(url: str, username: str) -> str:
    body = json.dumps({"username": username, "password": PASSWORD}).encode()
    request = urllib.request.Request(f"{url}/api/v1/auth/token", data=body,
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as answer:
        return str(json.loads(answer.read())["access_token"])


def test_the_stream_announces_a_changed_layer(runtime: Runtime) -> None:
    with serving(runtime) as url:
        events = sse_events(url, login(url, "operator"))
        assert next(events)[0] == "ready"
        publish_camera(runtime, "dead", camera_id=3)
        kind, data = next(events)
        assert (kind, data) == ("changed", {"layers": ["cameras"], "attention": False})
        with runtime.sessions() as session:
            publish(session, "alert.raised", {
                "id": 1, "rule": None, "subject": "x", "severity": "major", "state": "open",
                "title": "Thử", "unit_code": None, "unit_name": None, "flapping": False,
                "action": "raised", "by": "test", "at": camera_event("dead")["at"]})  # fmt: skip
            session.commit()
        assert next(events) == ("changed", {"layers": ["alerts"], "attention": True})
        events.close()
