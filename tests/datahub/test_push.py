"""Pushes from a unit's system with the source's own token: stored as a recorded run, a repeat
changes nothing, a forged or missing token is refused and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import LOC_THANH, LONG_THANH

Auth = Callable[[str], dict[str, str]]
SOURCE = {
    "code": "so_tn_cases",
    "name": "Hồ sơ môi trường (hệ thống của Sở TN&MT)",
    "kind": "push",
    "config": {
        "mapping": {
            "records": {
                "to": "dataset",
                "dataset": "moi_truong",
                "primary_key": "ma",
                "unit_field": "don_vi",
            }
        }
    },
}
RECORDS = [
    {"ma": "MT-001", "don_vi": LOC_THANH, "noi_dung": "Xả thải ra kênh", "trang_thai": "mới"},
    {"ma": "MT-002", "don_vi": LONG_THANH, "noi_dung": "Khói bụi", "trang_thai": "đang xử lý"},
    {"ma": "MT-003", "don_vi": "00000", "noi_dung": "Không rõ đơn vị", "trang_thai": "mới"},
]


def token(client: TestClient, auth: Auth) -> str:
    created = client.post("/api/v1/sources", json=SOURCE, headers=auth("admin"))
    assert created.status_code == 201, created.text
    made = client.post("/api/v1/sources/so_tn_cases/push-token", headers=auth("admin"))
    assert made.status_code == 200, made.text
    value: str = made.json()["token"]
    assert value.startswith("dhp_") and value not in str(
        client.get("/api/v1/sources/so_tn_cases", headers=auth("admin")).json()
    )
    return value


def push(client: TestClient, value: str, body: Any) -> Any:
    return client.post(
        "/api/v1/sources/so_tn_cases/push",
        json=body,
        headers={"Authorization": f"Bearer {value}"},
    )


def test_a_push_is_stored_once_and_its_bad_record_named(
    hub_client: TestClient, hub_auth: Auth
) -> None:
    value = token(hub_client, hub_auth)
    first = push(hub_client, value, {"records": RECORDS})
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["status"], body["new"], body["rejected"]) == ("succeeded", 2, 1)
    assert body["problems"][0]["record"] == 3
    again = push(hub_client, value, {"records": RECORDS[:2]}).json()
    assert (again["new"], again["unchanged"]) == (0, 2)
    records = hub_client.get(
        "/api/v1/datasets/moi_truong/records", headers=hub_auth("admin")
    ).json()
    assert sorted(r["key"] for r in records["records"]) == ["MT-001", "MT-002"]
    runs = hub_client.get("/api/v1/sources/so_tn_cases/runs", headers=hub_auth("admin")).json()
    assert [r["trigger"] for r in runs] == ["push", "push"]


def test_forged_missing_and_replaced_tokens_are_refused(
    hub_client: TestClient, hub_auth: Auth
) -> None:
    value = token(hub_client, hub_auth)
    assert push(hub_client, value + "x", {"records": RECORDS}).status_code == 401
    missing = hub_client.post("/api/v1/sources/so_tn_cases/push", json={"records": RECORDS})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "not_authenticated"
    unknown = hub_client.post(
        "/api/v1/sources/no_such/push",
        json={"records": RECORDS},
        headers={"Authorization": f"Bearer {value}"},
    )
    assert unknown.status_code == 401
    assert (
        hub_client.get("/api/v1/datasets/moi_truong/records", headers=hub_auth("admin")).json()[
            "total"
        ]
        == 0
    )
    newer = hub_client.post("/api/v1/sources/so_tn_cases/push-token", headers=hub_auth("admin"))
    assert push(hub_client, value, {"records": RECORDS}).status_code == 401  # the old one ended
    assert push(hub_client, newer.json()["token"], {"records": RECORDS}).status_code == 200
    refused = hub_client.post("/api/v1/sources/so_tn_cases/push-token", headers=hub_auth("dept"))
    assert refused.status_code == 403


def test_a_malformed_or_oversized_push_fails_clearly(
    hub_client: TestClient, hub_auth: Auth
) -> None:
    value = token(hub_client, hub_auth)
    bad = hub_client.post(
        "/api/v1/sources/so_tn_cases/push",
        content=b'{"records": [{"ma": ',
        headers={"Authorization": f"Bearer {value}", "Content-Type": "application/json"},
    ).json()
    assert bad["status"] == "failed" and "the body is not JSON" in bad["error"]
    big = hub_client.post(
        "/api/v1/sources/so_tn_cases/push",
        content=b"[" + b"0," * (6 * 1024 * 1024) + b"0]",
        headers={"Authorization": f"Bearer {value}", "Content-Type": "application/json"},
    )
    assert big.status_code == 413
