"""The data hub's HTTP API: the contract names of issue #11, permissions, unit scope, and the
trace from a dashboard figure back to the raw record that produced it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from dieuhanh.datahub.standins import IGateStandIn, igate_source
from tests.conftest import LOC_THANH

Auth = Callable[[str], dict[str, str]]


def create(client: TestClient, auth: Auth, igate: IGateStandIn) -> None:
    response = client.post(
        "/api/v1/sources", json=igate_source(igate.url, schedule=None), headers=auth("admin")
    )
    assert response.status_code == 201, response.text


def test_declare_run_and_list_sources(
    hub_client: TestClient, hub_auth: Auth, igate: IGateStandIn
) -> None:
    create(hub_client, hub_auth, igate)
    listed = hub_client.get("/api/v1/sources", headers=hub_auth("operator")).json()
    assert [(s["code"], s["kind"], s["state"]) for s in listed] == [
        ("igate_dossiers", "rest_api", "never")
    ]
    assert {"last_success_at", "last_error"} <= set(listed[0])

    ran = hub_client.post("/api/v1/sources/igate_dossiers/run", headers=hub_auth("operator"))
    assert ran.status_code == 200, ran.text
    result = ran.json()
    assert result["status"] == "succeeded"
    assert {"fetched", "new", "updated", "rejected"} <= set(result)
    assert result["new"] == result["fetched"] > 120

    source = hub_client.get("/api/v1/sources", headers=hub_auth("admin")).json()[0]
    assert source["state"] == "live" and source["last_success_at"] and source["last_error"] is None
    runs = hub_client.get("/api/v1/sources/igate_dossiers/runs", headers=hub_auth("admin")).json()
    assert [(r["status"], r["trigger"]) for r in runs] == [("succeeded", "manual")]
    detail = hub_client.get(
        f"/api/v1/sources/igate_dossiers/runs/{runs[0]['id']}", headers=hub_auth("admin")
    ).json()
    assert len(detail["payloads"]) == 6


def test_a_bad_declaration_names_the_key(hub_client: TestClient, hub_auth: Auth) -> None:
    spec = igate_source("http://10.0.0.5/")
    spec["config"]["client"]["paginator"] = {"type": "numbered"}
    response = hub_client.post("/api/v1/sources", json=spec, headers=hub_auth("admin"))
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith(
        "config.client.paginator.type: 'numbered' is not a paginator; use one of page_number"
    )


def test_only_who_manages_sources_declares_or_runs_them(
    hub_client: TestClient, hub_auth: Auth, igate: IGateStandIn
) -> None:
    spec = igate_source(igate.url, schedule=None)
    for username in ("dept", "commune", "viewer"):
        refused = hub_client.post("/api/v1/sources", json=spec, headers=hub_auth(username))
        assert refused.status_code == 403
    create(hub_client, hub_auth, igate)
    again = hub_client.post("/api/v1/sources", json=spec, headers=hub_auth("admin"))
    assert again.status_code == 409
    run = hub_client.post("/api/v1/sources/igate_dossiers/run", headers=hub_auth("dept"))
    assert run.status_code == 403
    assert hub_client.get("/api/v1/sources").status_code == 401
    assert hub_client.get("/api/v1/sources", headers=hub_auth("commune")).status_code == 403


def test_a_commune_sees_only_its_own_records(
    hub_client: TestClient, hub_auth: Auth, igate: IGateStandIn
) -> None:
    create(hub_client, hub_auth, igate)
    hub_client.post("/api/v1/sources/igate_dossiers/run", headers=hub_auth("admin"))
    everything = hub_client.get(
        "/api/v1/datasets/igate_dossiers/records?limit=1000", headers=hub_auth("admin")
    ).json()
    own = hub_client.get(
        "/api/v1/datasets/igate_dossiers/records?limit=1000", headers=hub_auth("commune")
    ).json()
    assert everything["total"] == 120
    assert 0 < own["total"] < 120
    assert {r["data"]["don_vi"]["ma"] for r in own["records"]} == {LOC_THANH}


def test_a_figure_is_traced_back_to_the_raw_record(
    hub_client: TestClient, hub_auth: Auth, igate: IGateStandIn
) -> None:
    create(hub_client, hub_auth, igate)
    hub_client.post("/api/v1/sources/igate_dossiers/run", headers=hub_auth("admin"))
    month = datetime.now(UTC).strftime("%Y%m")
    item = igate.monthly_statistics(month)["items"][0]
    # The figure as a dashboard reads it…
    trace = hub_client.get(
        "/api/v1/provenance",
        params={
            "element": "DOSSIERS_RECEIVED",
            "unit": item["ma_don_vi"],
            "period": month,
            "option": item["kenh"],
        },
        headers=hub_auth("operator"),
    )
    assert trace.status_code == 200, trace.text
    body = trace.json()
    assert body["value"]["value"] == str(item["so_ho_so_tiep_nhan"])
    assert body["value"]["source"] == "connector"
    assert body["source"]["code"] == "igate_dossiers"
    assert body["run"]["status"] == "succeeded"
    # …back to the exact response and the record in it.
    assert body["records"] == [item]
    raw = hub_client.get(body["payload"]["url"], headers=hub_auth("admin"))
    assert raw.status_code == 200
    assert hashlib.sha256(raw.content).hexdigest() == body["payload"]["sha256"]
    assert raw.headers["X-Content-SHA256"] == body["payload"]["sha256"]
    assert "statistics/monthly" in body["payload"]["reference"]


def test_the_status_page_shows_each_source_state_in_vietnamese(
    hub_client: TestClient, hub_auth: Auth, igate: IGateStandIn
) -> None:
    create(hub_client, hub_auth, igate)
    igate.faults = ["500", "500"]
    hub_client.post("/api/v1/sources/igate_dossiers/run", headers=hub_auth("admin"))
    page = hub_client.get("/datahub", headers=hub_auth("operator"))
    assert page.status_code == 200
    assert "Kết nối dữ liệu" in page.text
    assert "Lỗi đồng bộ" in page.text
    assert "HTTP 500" in page.text
