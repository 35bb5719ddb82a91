"""Rules through the API: refused with the key and the column when wrong, declared from YAML
all-or-none, and tried on past events before they are switched on."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from dieuhanh.core.runtime import Runtime
from tests.alerts.conftest import publish_camera

Auth = Callable[[str], dict[str, str]]
RULE = {"code": "camera_down_twice", "name": "Camera mất tín hiệu hai lần liền",
        "topic": "camera.state_changed", "when": "state == 'dead'", "clear": "state == 'live'",
        "subject": "camera:{camera_id}", "times": 2, "severity": "minor"}  # fmt: skip


def test_a_bad_rule_is_refused_with_where(client: TestClient, auth: Auth) -> None:
    cases = {
        "when": ("stat == 'dead'", "camera_down_twice'.when: unknown field 'stat'"),
        "clear": ("state == ", "camera_down_twice'.clear: syntax error"),
        "topic": ("camera.state_change", "topic: unknown event topic 'camera.state_change'"),
        "subject": ("camera:{id}", "subject: unknown field 'id'"),
        "for": ("soon", "'soon' is not a duration"),
        "severity": ("urgent", "severity"),
    }
    for key, (value, message) in cases.items():
        answer = client.post("/api/v1/alert-rules", json={**RULE, key: value},
                             headers=auth("operator"))  # fmt: skip
        assert answer.status_code == 422, (key, answer.text)
        assert message in answer.json()["error"]["message"], (key, answer.json())
    column = client.post("/api/v1/alert-rules", headers=auth("operator"),
                         json={**RULE, "when": "state == 'dead' and reason ="})  # fmt: skip
    assert "(at column" in column.json()["error"]["message"]
    assert client.post("/api/v1/alert-rules", json=RULE, headers=auth("commune")).status_code == 403


def test_rules_from_yaml_all_or_none(client: TestClient, auth: Auth) -> None:
    good = """
- code: source_down
  name: Nguồn dữ liệu lỗi
  topic: source.state_changed
  when: state == 'failing'
  clear: state == 'live'
  subject: "source:{code}"
  severity: critical
"""
    bad = good + '- code: broken\n  name: X\n  topic: camera.state_changed\n  when: "("\n'
    headers = {**auth("operator"), "Content-Type": "application/yaml"}
    refused = client.post("/api/v1/alert-rules/yaml", content=bad.encode(), headers=headers)
    assert refused.status_code == 422 and "rules[1] 'broken'.when" in refused.text
    codes = [r["code"] for r in client.get("/api/v1/alert-rules", headers=auth("operator")).json()]
    assert "source_down" not in codes  # all or none
    broken = client.post("/api/v1/alert-rules/yaml", content=b"- code: [", headers=headers)
    assert broken.status_code == 422 and "(line 1, column" in broken.json()["error"]["message"]
    stored = client.post("/api/v1/alert-rules/yaml", content=good.encode(), headers=headers)
    assert [r["code"] for r in stored.json()] == ["source_down"]


def test_a_rule_tried_on_past_events(client: TestClient, auth: Auth, runtime: Runtime) -> None:
    publish_camera(runtime, "dead", "dead", camera_id=1)  # twice in a row: raised
    publish_camera(runtime, "dead", "live", camera_id=2)  # once: not
    publish_camera(runtime, "live", camera_id=1)
    answer = client.post("/api/v1/alert-rules/test", json={"rule": RULE}, headers=auth("operator"))
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["events_read"] == 5 and result["raised"] == 1
    (would,) = result["alerts"]
    assert would["subject"] == "camera:1" and would["cleared_at"] is not None
    # Nothing was stored: trying is not switching on.
    assert client.get("/api/v1/alerts", headers=auth("operator")).json() == []
    shipped = client.post("/api/v1/alert-rules/test", json={"code": "camera_dead"},
                          headers=auth("operator")).json()  # fmt: skip
    assert shipped["raised"] == 0  # its five minutes never passed while dead
