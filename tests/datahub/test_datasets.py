"""Datasets as people read them: fields inferred then confirmed with labels, records filtered by
unit, text without accents and field values, within the reader's scope; the records page."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from dieuhanh.datahub.standins import IGateStandIn, igate_source
from tests.conftest import LOC_THANH

Auth = Callable[[str], dict[str, str]]
URL = "/api/v1/datasets/igate_dossiers"


def synced(client: TestClient, auth: Auth, igate: IGateStandIn) -> None:
    client.post(
        "/api/v1/sources", json=igate_source(igate.url, schedule=None), headers=auth("admin")
    )
    assert (
        client.post("/api/v1/sources/igate_dossiers/run", headers=auth("admin")).json()["status"]
        == "succeeded"
    )


def test_fields_are_inferred_then_confirmed(
    hub_client: TestClient, hub_auth: Auth, igate: IGateStandIn
) -> None:
    synced(hub_client, hub_auth, igate)
    listed = hub_client.get("/api/v1/datasets", headers=hub_auth("operator")).json()
    assert [(d["dataset"], d["records"], d["schema_confirmed"]) for d in listed] == [
        ("igate_dossiers", 120, False)
    ]
    inferred = hub_client.get(f"{URL}/schema", headers=hub_auth("operator")).json()
    types = {field["name"]: (field["type"], field["filled"]) for field in inferred["fields"]}
    assert types["ma_ho_so"] == ("text", 1.0)
    assert types["don_vi.ma"][0] == "number" and types["ngay_tiep_nhan"] == ("date", 1.0)
    assert 0 < types["ngay_hoan_thanh"][1] < 1  # open dossiers have no finish date
    confirmed = hub_client.put(
        f"{URL}/schema",
        json={
            "fields": [
                {"name": "ma_ho_so", "type": "text", "label": "Mã hồ sơ"},
                {"name": "thu_tuc", "type": "text", "label": "Thủ tục"},
                {"name": "don_vi.ten", "type": "text", "label": "Đơn vị"},
                {"name": "ngay_tiep_nhan", "type": "date", "label": "Ngày tiếp nhận"},
            ]
        },
        headers=hub_auth("operator"),
    )
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["confirmed_by"] == "operator"
    assert [f["label"] for f in body["fields"]] == [
        "Mã hồ sơ", "Thủ tục", "Đơn vị", "Ngày tiếp nhận",
    ]  # fmt: skip
    bad = hub_client.put(
        f"{URL}/schema",
        json={"fields": [{"name": "x", "type": "money"}]},
        headers=hub_auth("admin"),
    )
    assert bad.status_code == 422 and "fields[0].type" in bad.json()["error"]["message"]
    page = hub_client.get("/datahub/datasets/igate_dossiers", headers=hub_auth("operator"))
    assert page.status_code == 200 and "Ngày tiếp nhận" in page.text and "Mã hồ sơ" in page.text


def test_records_are_filtered_by_text_unit_and_field(
    hub_client: TestClient, hub_auth: Auth, igate: IGateStandIn
) -> None:
    synced(hub_client, hub_auth, igate)
    headers = hub_auth("admin")
    births = hub_client.get(f"{URL}/records", params={"q": "dang ky khai sinh"}, headers=headers)
    found = births.json()
    assert found["total"] > 0
    assert all(r["data"]["thu_tuc"] == "Đăng ký khai sinh" for r in found["records"])
    own = hub_client.get(f"{URL}/records", params={"unit": LOC_THANH}, headers=headers).json()
    by_field = hub_client.get(
        f"{URL}/records", params={"where": f"don_vi.ma:{LOC_THANH}"}, headers=headers
    ).json()
    assert own["total"] == by_field["total"] > 0
    both = hub_client.get(
        f"{URL}/records",
        params=[("where", f"don_vi.ma:{LOC_THANH}"), ("where", "kenh_nop:Trực tuyến")],
        headers=headers,
    ).json()
    assert 0 < both["total"] <= own["total"]
    # A commune officer asking for another commune's records gets none of them.
    other = hub_client.get(
        f"{URL}/records", params={"unit": "26368"}, headers=hub_auth("commune")
    ).json()
    assert other["total"] == 0
    bad = hub_client.get(f"{URL}/records", params={"where": "no-colon"}, headers=headers)
    assert bad.status_code == 422
