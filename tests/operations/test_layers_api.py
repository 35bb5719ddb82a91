"""The operations view's API on both databases: every layer's features within the caller's unit
scope, the attention list, and clear errors for bad parameters."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.values.save import ValueRow, save_values
from tests.conftest import LOC_THANH, LONG_THANH
from tests.operations import seed

Headers = Callable[[str], dict[str, str]]


@pytest.fixture
def seeded(runtime: Runtime) -> dict[str, seed.Place]:
    """Two communes (Lộc Thạnh, Long Thành) with 10 cameras, 20 reports, 5 alerts, sensor
    readings and directives each."""
    with runtime.sessions() as session:
        where = seed.places(session, {LOC_THANH, LONG_THANH})
        seed.cameras(session, where, 20, random.Random(1))
        seed.reports(session, where, 40, random.Random(2))
        seed.alerts(session, where, 10)
        seed.sensor_readings(session, where, devices=4, per_device=3)
        by_code = {place.code: place for place in where}
        issuer = by_code[LOC_THANH].unit_id
        seed.directive(session, issuer, where, ["sent", "done"], "CD-T-1")
        seed.directive(session, issuer, [by_code[LONG_THANH]], ["acknowledged"], "CD-T-2",
                       late=True)  # fmt: skip
        session.commit()
    return by_code


def layer(client: TestClient, headers: dict[str, str], code: str, **params: str) -> Any:
    response = client.get(f"/api/v1/operations/layers/{code}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_layers_are_listed_with_legends(client: TestClient, auth: Headers) -> None:
    answer = client.get("/api/v1/operations/layers", headers=auth("operator"))
    assert answer.status_code == 200
    by_code = {item["code"]: item for item in answer.json()}
    assert set(by_code) == {"alerts", "cameras", "reports", "sensors", "directives", "indicator"}
    assert by_code["cameras"]["kind"] == "points"
    assert by_code["cameras"]["link"] == "/cameras/{id}/live"
    assert "camera.state_changed" in by_code["cameras"]["topics"]
    assert {c["code"] for c in by_code["cameras"]["classes"]} == {"live", "dead", "unknown"}
    assert by_code["cameras"]["classes"][0]["title"] == "Mất tín hiệu"
    indicator = by_code["indicator"]
    assert indicator["kind"] == "choropleth" and indicator["on_by_default"] is False
    (chosen,) = [p for p in indicator["params"] if p["name"] == "indicator"]
    assert chosen["required"] and any(
        c["code"] == "OVERDUE_DOSSIER_RATE" for c in chosen["choices"]
    )
    client.cookies.set("dieuhanh_lang", "en")
    english = client.get("/api/v1/operations/layers", headers=auth("operator"))
    assert english.json()[0]["title"] in {"Open alerts by severity", "Cameras by state"}


def test_each_layer_within_the_unit_scope(
    client: TestClient, auth: Headers, seeded: dict[str, seed.Place]
) -> None:
    operator, commune = auth("operator"), auth("commune")
    cameras = layer(client, operator, "cameras")
    assert cameras["columns"] == ["id", "lat", "lon", "unit", "class", "title"]
    assert cameras["count"] == 20
    assert {row[4] for row in cameras["rows"]} == {"live", "dead", "unknown"}
    mine = layer(client, commune, "cameras")
    assert mine["count"] == 10 and {row[3] for row in mine["rows"]} == {LOC_THANH}

    reports = layer(client, operator, "reports")
    assert reports["count"] == 40
    assert sum(row[1] is None for row in reports["rows"]) == 4  # no point: drawn at the unit
    assert {row[4] for row in reports["rows"]} >= {"overdue", "new", "in_progress"}
    assert reports["rows"][0][0].startswith("PA-T-") and reports["link"] == "/citizen/{id}"
    assert {row[3] for row in layer(client, commune, "reports")["rows"]} == {LOC_THANH}

    alerts = layer(client, operator, "alerts")
    assert alerts["count"] == 10
    assert alerts["rows"][0][4] == "info" and alerts["rows"][-1][4] == "critical"  # on top
    assert {row[3] for row in layer(client, commune, "alerts")["rows"]} == {LOC_THANH}

    sensors = layer(client, operator, "sensors")
    assert sensors["count"] == 4  # the newest reading of each device
    assert all(row[1] is None and row[4] == "water_level" for row in sensors["rows"])
    assert sensors["rows"][0][5].startswith("WL-000 · Mực nước: 1")
    assert layer(client, commune, "sensors")["count"] == 2

    directives = {row[0]: row for row in layer(client, operator, "directives")["rows"]}
    assert directives[LOC_THANH][4] == "sent" and directives[LONG_THANH][4] == "overdue"
    assert directives[LONG_THANH][5] == "1 chỉ đạo đang thực hiện · 1 quá hạn"
    assert [row[0] for row in layer(client, commune, "directives")["rows"]] == [LOC_THANH]


def test_the_attention_list(
    client: TestClient, auth: Headers, seeded: dict[str, seed.Place]
) -> None:
    answer = client.get("/api/v1/operations/attention", params={"limit": 200},
                        headers=auth("operator")).json()  # fmt: skip
    items = answer["items"]
    assert answer["failed"] == []
    assert [item["urgency"] for item in items] == sorted(
        (item["urgency"] for item in items), key=seed.SEVERITIES.index
    )
    layers = {item["layer"] for item in items}
    assert layers == {"alerts", "reports", "directives"}
    first = items[0]
    assert first["urgency"] == "critical" and first["link"].startswith(("/alerts/", "/citizen/"))
    late = [item for item in items if item["layer"] == "directives"]
    assert [item["link"] for item in late] == [f"/directives?unit={LONG_THANH}"]
    mine = client.get("/api/v1/operations/attention", params={"limit": 200},
                      headers=auth("commune")).json()["items"]  # fmt: skip
    assert mine and {item["unit_code"] for item in mine} == {LOC_THANH}


def test_an_indicator_as_a_choropleth(client: TestClient, auth: Headers, runtime: Runtime) -> None:
    period = runtime.today().replace(day=1)
    month = f"{period.year - 1 if period.month == 1 else period.year}" + (
        "12" if period.month == 1 else f"{period.month - 1:02d}"
    )
    rows = [ValueRow("DOSSIERS_PROCESSED", LOC_THANH, month, "100", "ONLINE"),
            ValueRow("DOSSIERS_OVERDUE", LOC_THANH, month, "2", "ONLINE"),
            ValueRow("DOSSIERS_PROCESSED", LONG_THANH, month, "50", "ONLINE"),
            ValueRow("DOSSIERS_OVERDUE", LONG_THANH, month, "20", "ONLINE")]  # fmt: skip
    with runtime.sessions() as session:
        summary = save_values(session, None, rows, source="api")
        assert not summary.conflicts, summary.conflicts
        session.commit()
    answer = layer(client, auth("operator"), "indicator", indicator="OVERDUE_DOSSIER_RATE")
    assert answer["kind"] == "choropleth" and answer["columns"] == [
        "unit",
        "class",
        "value",
        "title",
    ]
    by_unit = {row[0]: row for row in answer["rows"]}
    assert by_unit[LOC_THANH][2] == 2.0 and by_unit[LONG_THANH][2] == 40.0
    assert by_unit[LOC_THANH][1] != by_unit[LONG_THANH][1]
    assert {c["code"] for c in answer["classes"]} == {by_unit[LOC_THANH][1], by_unit[LONG_THANH][1]}
    assert answer["note"].endswith(month[4:] + "/" + month[:4]) or month[:4] in answer["note"]
    mine = layer(client, auth("commune"), "indicator", indicator="OVERDUE_DOSSIER_RATE")
    assert [row[0] for row in mine["rows"]] == [LOC_THANH]


BAD = [
    ("nowhere", {}, 404, "unknown_layer", "the layers are: alerts, cameras"),
    ("cameras", {"colour": "red"}, 422, "unknown_layer_param", "does not take 'colour'"),
    ("indicator", {}, 422, "missing_layer_param", "needs 'indicator'"),
    ("indicator", {"indicator": "NO_SUCH"}, 422, None, "NO_SUCH"),
    ("indicator", {"indicator": "OVERDUE_DOSSIER_RATE", "period": "LAST_2_DAYS_OR_SO"}, 422,
     "invalid_period", "period:"),
    ("sensors", {"hours": "0"}, 422, "invalid_layer_param", "hours: a whole number"),
    ("sensors", {"hours": "x" * 200}, 422, "invalid_layer_param", "at most 100"),
]  # fmt: skip


def test_bad_parameters_are_named(client: TestClient, auth: Headers) -> None:
    operator = auth("operator")
    for path, params, status, code, words in BAD:
        answer = client.get(f"/api/v1/operations/layers/{path}", params=params, headers=operator)
        assert answer.status_code == status, (path, params, answer.text)
        error = answer.json()["error"]
        assert words in error["message"], (path, params, error)
        assert code is None or error["code"] == code, (path, params, error)
    limit = client.get("/api/v1/operations/attention?limit=0", headers=operator)
    assert limit.status_code == 422 and "limit" in limit.text


def test_login_is_needed(client: TestClient) -> None:
    for path in ("layers", "layers/cameras", "attention", "stream"):
        assert client.get(f"/api/v1/operations/{path}").status_code == 401
