"""Datasets turned into values (aggregates), and reconciliation: two figures of the same thing
lined up by unit and period, a mismatch found, listed, resolved, and its history kept."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.standins import CHANNELS, IGateStandIn, igate_source
from dieuhanh.indicators.catalog.models import DataElement, DataValue
from dieuhanh.units.models import Unit

Auth = Callable[[str], dict[str, str]]
MONTH = datetime.now(UTC).strftime("%Y%m")
MONTH_DASHED = datetime.now(UTC).strftime("%Y-%m")


def overdue(option: str, op: str) -> dict[str, Any]:
    return {
        "code": f"igate_overdue_{option.lower()}",
        "name": f"Hồ sơ trả kết quả trễ hạn ({option})",
        "element": "DOSSIERS_OVERDUE",
        "option": option,
        "periods": "THIS_MONTH",
        "figure": {
            "dataset": "igate_dossiers",
            "date_field": "ngay_tiep_nhan",
            "measure": "count",
            "where": [
                {"field": "ngay_hoan_thanh", "op": ">", "other_field": "han_xu_ly"},
                {"field": "kenh_nop", "op": op, "value": CHANNELS[0]},
            ],
        },
    }


def synced(client: TestClient, auth: Auth, igate: IGateStandIn) -> None:
    igate.grow(arrivals=40, finishes=25)  # this month: arrivals, some finished
    with igate._lock:  # and some of this month's were due at once, and finished an hour late
        this_month = [r for r in igate._records if r["ngay_tiep_nhan"][:7] == MONTH_DASHED]
        for record in this_month[::3]:
            received = datetime.fromisoformat(record["ngay_tiep_nhan"])
            record["han_xu_ly"] = record["ngay_tiep_nhan"]
            record["ngay_hoan_thanh"] = (received + timedelta(hours=1)).isoformat()
    response = client.post(
        "/api/v1/sources", json=igate_source(igate.url, schedule=None), headers=auth("admin")
    )
    assert response.status_code == 201, response.text
    ran = client.post("/api/v1/sources/igate_dossiers/run", headers=auth("admin")).json()
    assert ran["status"] == "succeeded", ran


def test_overdue_dossiers_per_commune_become_values(
    hub: Runtime, hub_client: TestClient, hub_auth: Auth, igate: IGateStandIn
) -> None:
    synced(hub_client, hub_auth, igate)
    for option, op in (("ONLINE", "="), ("IN_PERSON", "!=")):
        declared = hub_client.post(
            "/api/v1/aggregates", json=overdue(option, op), headers=hub_auth("operator")
        )
        assert declared.status_code == 200, declared.text
        ran = hub_client.post(
            f"/api/v1/aggregates/igate_overdue_{option.lower()}/run", headers=hub_auth("operator")
        )
        assert ran.status_code == 200, ran.text
        assert ran.json()["conflicts"] == []
    expected: Counter[tuple[str, str]] = Counter()
    present: set[tuple[str, str]] = set()
    with igate._lock:
        for record in igate._records:
            if record["ngay_tiep_nhan"][:7].replace("-", "") != MONTH:
                continue
            channel = "ONLINE" if record["kenh_nop"] == CHANNELS[0] else "IN_PERSON"
            present |= {(record["don_vi"]["ma"], "ONLINE"), (record["don_vi"]["ma"], "IN_PERSON")}
            late = record["ngay_hoan_thanh"] and record["ngay_hoan_thanh"] > record["han_xu_ly"]
            expected[(record["don_vi"]["ma"], channel)] += bool(late)
    assert present  # there were dossiers this month, in both channels
    with hub.sessions() as session:
        element = session.scalars(
            select(DataElement).where(DataElement.code == "DOSSIERS_OVERDUE")
        ).one()
        stored = {
            (unit_code, value.option): int(value.value)
            for value, unit_code in session.execute(
                select(DataValue, Unit.code)
                .join(Unit, Unit.id == DataValue.unit_id)
                .where(DataValue.element_id == element.id, DataValue.period_code == MONTH)
            )
        }
    # Every commune with dossiers this month has a value for each channel, zero included.
    assert stored == {key: expected[key] for key in present}
    assert any(stored.values())


def test_a_mismatch_is_found_listed_resolved_and_kept(
    hub_client: TestClient, hub_auth: Auth, igate: IGateStandIn
) -> None:
    synced(hub_client, hub_auth, igate)
    # iGate's own statistics (values) against the dossiers themselves (a dataset): they agree.
    declaration = {
        "code": "dossiers_received",
        "name": "Hồ sơ tiếp nhận: thống kê iGate và hồ sơ chi tiết",
        "periods": "THIS_MONTH",
        "left": {"element": "DOSSIERS_RECEIVED"},
        "right": {"dataset": "igate_dossiers", "date_field": "ngay_tiep_nhan"},
        "tolerance_absolute": 0,
    }
    declared = hub_client.post(
        "/api/v1/reconciliations", json=declaration, headers=hub_auth("admin")
    )
    assert declared.status_code == 200, declared.text
    url = "/api/v1/reconciliations/dossiers_received"
    first = hub_client.post(f"{url}/run", headers=hub_auth("admin")).json()
    assert first["compared"] > 0 and first["mismatched"] == 0, first

    # The statistics for one commune are corrected upwards by hand: now they disagree.
    item = igate.monthly_statistics(MONTH)["items"][0]
    changed = hub_client.post(
        "/api/v1/dataValueSets",
        json={
            "dataValues": [
                {
                    "dataElement": "DOSSIERS_RECEIVED",
                    "categoryOptionCombo": item["kenh"],
                    "orgUnit": item["ma_don_vi"],
                    "period": MONTH,
                    "value": str(item["so_ho_so_tiep_nhan"] + 5),
                }
            ]
        },
        headers=hub_auth("admin"),
    )
    assert changed.status_code == 200, changed.text
    second = hub_client.post(f"{url}/run", headers=hub_auth("admin")).json()
    assert (second["mismatched"], second["opened"]) == (1, 1)
    listed = hub_client.get(f"{url}/mismatches?state=open", headers=hub_auth("operator")).json()
    assert [(m["unit"], m["period"], m["difference"]) for m in listed] == [
        (item["ma_don_vi"], MONTH, 5.0)
    ]
    again = hub_client.post(f"{url}/run", headers=hub_auth("admin")).json()
    assert (again["mismatched"], again["opened"]) == (1, 0)  # one row while it lasts

    # The pages: the list counts it open; the reconciliation's page shows it with its figures
    # (Vietnamese number format) and a form to resolve it, for those who may.
    overview = hub_client.get("/datahub/reconciliations", headers=hub_auth("operator"))
    assert overview.status_code == 200
    assert 'data-reconciliation="dossiers_received"' in overview.text
    assert '<td class="open-count"><b>1</b></td>' in overview.text
    detail = hub_client.get(
        "/datahub/reconciliations/dossiers_received", headers=hub_auth("operator")
    )
    row = detail.text.split(f'data-mismatch="{listed[0]["id"]}"')[1].split("</tr>")[0]
    assert item["ma_don_vi"] in row and "<b>5</b>" in row and 'class="resolve row"' in row
    viewer = hub_client.get(
        "/datahub/reconciliations/dossiers_received", headers=hub_auth("viewer")
    )
    assert viewer.status_code == 200 and 'class="resolve row"' not in viewer.text
    missing = hub_client.get("/datahub/reconciliations/nope", headers=hub_auth("operator"))
    assert missing.status_code == 404

    resolved = hub_client.post(
        f"{url}/mismatches/{listed[0]['id']}/resolve",
        json={"resolution": "Số của iGate đúng; đã yêu cầu xã sửa báo cáo."},
        headers=hub_auth("operator"),
    )
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["state"], resolved.json()["resolved_by"]) == ("resolved", "operator")
    history = hub_client.get(f"{url}/mismatches", headers=hub_auth("admin")).json()
    assert [m["state"] for m in history] == ["resolved"]
    kept = hub_client.get("/datahub/reconciliations/dossiers_received?state=resolved",
                          headers=hub_auth("operator")).text  # fmt: skip
    assert "Số của iGate đúng" in kept and "operator" in kept
    commune = hub_client.get(f"{url}/mismatches", headers=hub_auth("commune")).json()
    assert all(m["unit"] == "25280" for m in commune)
