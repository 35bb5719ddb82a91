"""The data hub's forms: a dataset's fields confirmed, an aggregate and a reconciliation declared
through the pages (the same checks and storage as the API), bad input shown on the page with
what is wrong, and only for those who manage sources; a commune reads its own differences."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from dieuhanh.datahub.standins import CHANNELS, IGateStandIn
from tests.conftest import LOC_THANH, LONG_THANH
from tests.datahub.test_reconcile import MONTH, overdue, synced

Auth = Callable[[str], dict[str, str]]
SCHEMA = "/datahub/datasets/igate_dossiers/schema"


def as_form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Fields sent as a browser sends them: a name repeated, in the form's order."""
    form: dict[str, list[str]] = {}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form


def schema_form(rows: list[tuple[str, str, str, str]], keep: set[str]) -> dict[str, list[str]]:
    form = []
    for name, label, kind, role in rows:
        form += [("name", name), ("label", label), ("type", kind), ("role", role)]
        if name in keep:
            form.append(("keep", name))
    return as_form(form)


def test_the_schema_is_confirmed_through_its_form(
    hub_client: TestClient, hub_auth: Auth, igate: IGateStandIn
) -> None:
    synced(hub_client, hub_auth, igate)
    operator = hub_auth("operator")
    page = hub_client.get(SCHEMA, headers=operator)
    assert page.status_code == 200 and "Cấu trúc suy ra từ dữ liệu" in page.text
    # Inferred: fill rate and examples; the unit and key roles from the source's mapping.
    unit_row = page.text.split('data-field="don_vi.ma"')[1].split("</tr>")[0]
    assert '<option value="unit" selected>' in unit_row and "100 %" in unit_row
    assert LOC_THANH in page.text or "25195" in page.text  # examples
    key_row = page.text.split('data-field="ma_ho_so"')[1].split("</tr>")[0]
    assert '<option value="key" selected>' in key_row

    rows = [
        ("ngay_tiep_nhan", "Ngày tiếp nhận", "date", "period"),
        ("ma_ho_so", "Mã hồ sơ", "text", "key"),
        ("don_vi.ma", "Đơn vị", "text", "unit"),
        ("kenh_nop", "", "text", "attribute"),
    ]
    sent = hub_client.post(
        SCHEMA,
        data=schema_form(rows, keep={"ngay_tiep_nhan", "ma_ho_so", "don_vi.ma"}),
        headers=operator,
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    shown = hub_client.get(sent.headers["location"], headers=operator).text
    assert "Đã xác nhận cấu trúc." in shown
    assert re.search(r"Cấu trúc đã được operator xác nhận lúc \d\d/\d\d/\d{4} \d\d:\d\d", shown)
    schema = hub_client.get("/api/v1/datasets/igate_dossiers/schema", headers=operator).json()
    assert [(f["name"], f["label"], f["type"], f["role"]) for f in schema["fields"]] == [
        row for row in rows if row[0] != "kenh_nop"
    ]
    assert schema["confirmed_by"] == "operator"
    records = hub_client.get("/datahub/datasets/igate_dossiers", headers=operator).text
    assert "<th " in records and ">Ngày tiếp nhận</th>" in records

    # Refused: a field the records do not have, nothing kept; the form comes back as sent.
    tampered = hub_client.post(
        SCHEMA, data=schema_form([("khong_co", "X", "text", "attribute")], {"khong_co"}),
        headers=operator,
    )  # fmt: skip
    assert tampered.status_code == 422
    assert "fields[0].name: the records have no field &#39;khong_co&#39;" in tampered.text
    empty = hub_client.post(SCHEMA, data=schema_form(rows, keep=set()), headers=operator)
    assert empty.status_code == 422 and "fields: keep at least one field" in empty.text
    assert 'value="Ngày tiếp nhận"' in empty.text  # what was typed is kept
    after = hub_client.get("/api/v1/datasets/igate_dossiers/schema", headers=operator).json()
    assert after["fields"] == schema["fields"]

    # Only those who manage sources see or send the form.
    for username in ("dept", "commune", "viewer"):
        assert hub_client.get(SCHEMA, headers=hub_auth(username)).status_code == 403
    refused = hub_client.post(
        SCHEMA, data=schema_form(rows, {"ma_ho_so"}), headers=hub_auth("dept")
    )
    assert refused.status_code == 403
    assert hub_client.get("/datahub/datasets/nope/schema", headers=operator).status_code == 404


def aggregate_form(declaration: dict[str, Any]) -> dict[str, list[str]]:
    figure = declaration["figure"]
    form = [(key, declaration[key]) for key in ("code", "name", "periods", "element", "option")]
    form += [("figure.dataset", figure["dataset"]), ("figure.date_field", figure["date_field"]),
             ("figure.period_type", "monthly"), ("figure.measure", "count")]  # fmt: skip
    for condition in [*figure["where"], {}]:  # and a blank row, left out
        form += [
            ("figure.where_field", condition.get("field", "")),
            ("figure.where_op", condition.get("op", "=")),
            ("figure.where_value", condition.get("value", "")),
            ("figure.where_other_field", condition.get("other_field", "")),
        ]
    return as_form(form)


def test_an_aggregate_is_declared_and_changed_through_its_form(
    hub_client: TestClient, hub_auth: Auth, igate: IGateStandIn
) -> None:
    synced(hub_client, hub_auth, igate)
    operator = hub_auth("operator")
    blank = hub_client.get("/datahub/declare/aggregate?dataset=igate_dossiers", headers=operator)
    assert blank.status_code == 200
    assert '<option value="igate_dossiers" data-unit="don_vi.ma" selected>' in blank.text
    assert '<datalist id="fields-igate_dossiers">' in blank.text

    declaration = overdue("ONLINE", "=")
    sent = hub_client.post(
        "/datahub/declare/aggregate",
        data=aggregate_form(declaration),
        headers=operator,
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    listed = hub_client.get(sent.headers["location"], headers=operator).text
    assert "Đã lưu khai báo igate_overdue_online." in listed
    assert 'data-aggregate="igate_overdue_online"' in listed
    stored = hub_client.get("/api/v1/aggregates", headers=operator).json()
    # The very declaration the API takes (a value typed in a form is text: compared as such).
    assert stored[0]["figure"] == {**declaration["figure"], "period_type": "monthly"}
    ran = hub_client.post("/api/v1/aggregates/igate_overdue_online/run", headers=operator)
    assert ran.status_code == 200 and ran.json()["conflicts"] == []
    listed = hub_client.get("/datahub/reconciliations", headers=operator).text
    assert re.search(r"\d+ new, \d+ updated, \d+ unchanged, 0 refused", listed)

    # Changing it: the form comes filled, the code fixed.
    change = hub_client.get(
        "/datahub/declare/aggregate?code=igate_overdue_online", headers=operator
    )
    assert (
        'value="igate_overdue_online" maxlength="60"' in change.text and "readonly" in change.text
    )
    assert 'value="han_xu_ly"' in change.text and f'value="{CHANNELS[0]}"' in change.text

    # Refused with what is wrong, the form as sent, nothing stored.
    typo = aggregate_form({**declaration, "code": "typo"})
    typo["figure.where_field"][0] = "ngay_xong"
    refused = hub_client.post("/datahub/declare/aggregate", data=typo, headers=operator)
    assert refused.status_code == 422
    assert "figure.where[0].field: &#39;ngay_xong&#39; is not a field of dataset" in refused.text
    assert 'value="ngay_xong"' in refused.text
    no_element = aggregate_form({**declaration, "code": "other", "element": "KHONG_CO"})
    refused = hub_client.post("/datahub/declare/aggregate", data=no_element, headers=operator)
    assert (
        refused.status_code == 422 and "element: no data element &#39;KHONG_CO&#39;" in refused.text
    )
    assert [a["code"] for a in hub_client.get("/api/v1/aggregates", headers=operator).json()] == [
        "igate_overdue_online"
    ]
    for username in ("dept", "commune"):
        headers = hub_auth(username)
        assert hub_client.get("/datahub/declare/aggregate", headers=headers).status_code == 403
        posted = hub_client.post("/datahub/declare/aggregate", data=typo, headers=headers)
        assert posted.status_code == 403
    assert hub_client.get("/datahub/declare/nothing", headers=operator).status_code == 404


def reconciliation_form(**changes: str) -> dict[str, str]:
    return {
        "code": "dossiers_received", "name": "Hồ sơ tiếp nhận: thống kê và hồ sơ chi tiết",
        "periods": "THIS_MONTH", "left.kind": "element", "left.element": "DOSSIERS_RECEIVED",
        "right.kind": "dataset", "right.dataset": "igate_dossiers",
        "right.date_field": "ngay_tiep_nhan", "right.measure": "count",
        "tolerance_absolute": "0", "tolerance_percent": "1,5", **changes,
    }  # fmt: skip


def test_a_reconciliation_is_declared_through_its_form(
    hub_client: TestClient, hub_auth: Auth, igate: IGateStandIn
) -> None:
    synced(hub_client, hub_auth, igate)
    operator = hub_auth("operator")
    for bad, problem in (
        ({"tolerance_absolute": "năm"}, "tolerance_absolute: &#39;năm&#39; is not a number"),
        ({"tolerance_percent": "150"}, "tolerance_relative: 150 % is not a percentage"),
        ({"tolerance_absolute": "-1"}, "tolerance_absolute: Input should be greater than"),
        ({"right.date_field": ""}, "right: Value error, a dataset figure needs date_field"),
        ({"left.element": ""}, "left.element: give the data element&#39;s code"),
    ):
        refused = hub_client.post(
            "/datahub/declare/reconciliation", data=reconciliation_form(**bad), headers=operator
        )
        assert refused.status_code == 422, bad
        assert problem in refused.text, (bad, refused.text.split('role="alert"')[1][:300])
    assert hub_client.get("/api/v1/reconciliations", headers=operator).json() == []

    sent = hub_client.post(
        "/datahub/declare/reconciliation",
        data=reconciliation_form(),
        headers=operator,
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    [stored] = hub_client.get("/api/v1/reconciliations", headers=operator).json()
    assert (stored["tolerance_absolute"], stored["tolerance_relative"]) == (0, 0.015)
    defaults = {"period_type": "monthly", "measure": "count", "where": []}
    assert stored["left"] == {"element": "DOSSIERS_RECEIVED", **defaults}
    assert stored["right"] == {
        "dataset": "igate_dossiers", "date_field": "ngay_tiep_nhan", **defaults
    }  # fmt: skip
    change = hub_client.get(
        "/datahub/declare/reconciliation?code=dossiers_received", headers=operator
    ).text
    assert 'name="tolerance_percent" inputmode="decimal" value="1.5"' in change

    # Two communes' statistics corrected upwards by hand: two differences, one in each commune;
    # a commune officer reads its own only, and may not resolve it.
    statistics = {item["ma_don_vi"]: item for item in igate.monthly_statistics(MONTH)["items"]}
    values = [
        {"dataElement": "DOSSIERS_RECEIVED", "categoryOptionCombo": statistics[unit]["kenh"],
         "orgUnit": unit, "period": MONTH,
         "value": str(statistics[unit]["so_ho_so_tiep_nhan"] + 50)}
        for unit in (LOC_THANH, LONG_THANH)
    ]  # fmt: skip
    changed = hub_client.post(
        "/api/v1/dataValueSets", json={"dataValues": values}, headers=hub_auth("admin")
    )
    assert changed.status_code == 200, changed.text
    ran = hub_client.post("/api/v1/reconciliations/dossiers_received/run", headers=operator)
    assert ran.json()["opened"] == 2, ran.json()
    page = "/datahub/reconciliations/dossiers_received?state=open"
    everyone = hub_client.get(page, headers=operator).text
    assert everyone.count("data-mismatch=") == 2 and everyone.count('class="resolve row"') == 2
    own = hub_client.get(page, headers=hub_auth("commune")).text
    assert own.count("data-mismatch=") == 1 and LOC_THANH in own and LONG_THANH not in own
    assert 'class="resolve row"' not in own
    for username in ("dept", "commune"):
        refused = hub_client.post(
            "/datahub/declare/reconciliation",
            data=reconciliation_form(),
            headers=hub_auth(username),
        )
        assert refused.status_code == 403
