"""HTTP API of the indicator metadata, data values, dataValueSets and the national report."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import pytest

from dieuhanh.indicators.catalog.periods import PeriodType, parse_period, period_of
from dieuhanh.indicators.values.save import ValueRow, save_values
from tests.conftest import LOC_THANH, LONG_THANH
from tests.indicators.entry_setup import VN, build

NAMED = {
    ("GET", "/api/v1/dataElements"), ("POST", "/api/v1/dataElements"),
    ("GET", "/api/v1/dataElements/{code}"), ("PUT", "/api/v1/dataElements/{code}"),
    ("GET", "/api/v1/indicators"), ("POST", "/api/v1/indicators"),
    ("GET", "/api/v1/indicators/{code}"), ("PUT", "/api/v1/indicators/{code}"),
    ("GET", "/api/v1/forms"), ("POST", "/api/v1/forms"),
    ("GET", "/api/v1/forms/{code}"), ("PUT", "/api/v1/forms/{code}"),
    ("GET", "/api/v1/constants"), ("POST", "/api/v1/constants"),
    ("GET", "/api/v1/validationRules"), ("POST", "/api/v1/validationRules"),
    ("POST", "/api/v1/dataValueSets"), ("GET", "/api/v1/dataValueSets"),
    ("PUT", "/api/v1/dataValues"), ("DELETE", "/api/v1/dataValues"),
    ("GET", "/api/v1/dataValues/history"),
    ("POST", "/api/v1/forms/{code}/completions"), ("DELETE", "/api/v1/forms/{code}/completions"),
    ("POST", "/api/v1/forms/{code}/approvals"), ("DELETE", "/api/v1/forms/{code}/approvals"),
    ("POST", "/api/v1/forms/{code}/exceptions"),
    ("GET", "/api/v1/reports/national-monthly"),
}  # fmt: skip


@pytest.fixture
def setup(runtime):
    with runtime.sessions() as session:
        build(session)
    this_month = period_of(PeriodType.MONTHLY, runtime.today())
    return this_month.code


def test_the_named_endpoints_are_in_the_openapi(client) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    found = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    assert found >= NAMED


def test_data_elements(client, auth) -> None:
    operator, commune = auth("operator"), auth("commune")
    body = {"code": "BEDS", "name": "Số giường bệnh", "valueType": "integer",
            "unitOfMeasure": "giường", "aggregationType": "sum", "domain": "health"}  # fmt: skip
    assert client.post("/api/v1/dataElements", json=body, headers=commune).status_code == 403
    created = client.post("/api/v1/dataElements", json=body, headers=operator)
    assert created.status_code == 201, created.text
    assert created.json() | body == created.json() and created.json()["disaggregation"] is None
    assert client.post("/api/v1/dataElements", json=body, headers=operator).status_code == 409
    read = client.get("/api/v1/dataElements/BEDS", headers=commune)
    assert read.status_code == 200 and read.json()["name"] == "Số giường bệnh"
    listed = client.get("/api/v1/dataElements?domain=health", headers=commune).json()
    assert [e["code"] for e in listed] == ["BEDS"]
    changed = client.put(
        "/api/v1/dataElements/BEDS", json=body | {"name": "Giường bệnh"}, headers=operator
    )
    assert changed.status_code == 200 and changed.json()["name"] == "Giường bệnh"
    mismatch = client.put("/api/v1/dataElements/BEDS", json=body | {"code": "X"}, headers=operator)
    assert mismatch.status_code == 422
    unknown = client.post(
        "/api/v1/dataElements",
        json=body | {"code": "B2", "disaggregation": "NOPE", "typo": 1},
        headers=operator,
    )
    assert unknown.status_code == 422 and "typo" in unknown.json()["error"]["message"]
    assert client.get("/api/v1/dataElements/NOPE", headers=commune).status_code == 404


def test_an_element_with_values_keeps_its_type(client, auth, setup) -> None:
    operator = auth("operator")
    put = client.put(
        "/api/v1/dataValues", json={"de": "AMOUNT", "pe": setup, "ou": LOC_THANH, "value": "2"},
        headers=operator,
    )  # fmt: skip
    assert put.status_code == 200, put.text
    body = {"name": "x", "valueType": "text"}
    refused = client.put("/api/v1/dataElements/AMOUNT", json=body, headers=operator)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "element_has_values"


def test_indicators_check_their_formulas(client, auth, setup) -> None:
    operator = auth("operator")
    good = {"code": "OVERDUE_PCT", "name": "Tỷ lệ quá hạn", "numerator": "#{OVERDUE}",
            "denominator": "#{PROCESSED}", "factor": 100, "decimals": 1,
            "direction": "lower_is_better", "target": 2,
            "legend": [{"start": None, "end": 2, "color": "green", "label": "Tốt"}],
            "domain": "public_services", "unitOfMeasure": "%", "description": None}  # fmt: skip
    created = client.post("/api/v1/indicators", json=good, headers=operator)
    assert created.status_code == 201, created.text
    assert created.json() == good
    assert client.get("/api/v1/indicators/OVERDUE_PCT", headers=auth("viewer")).json() == good
    syntax = client.post(
        "/api/v1/indicators", json=good | {"code": "BAD", "numerator": "#{OVERDUE} * (2"},
        headers=operator,
    )  # fmt: skip
    error = syntax.json()["error"]
    assert syntax.status_code == 422 and error["code"] == "invalid_expression"
    assert error["message"].startswith("numerator of BAD:") and "position" in error["message"]
    assert error["details"][0]["position"] == 15
    unknown = client.post(
        "/api/v1/indicators",
        json=good | {"code": "BAD", "denominator": "#{PROCESSED.BY_POST} + C{NOPE}"},
        headers=operator,
    )
    message = unknown.json()["error"]["message"]
    assert unknown.status_code == 422 and "denominator of BAD" in message
    assert "'BY_POST' is not an option of PROCESSED" in message
    chained = client.post(
        "/api/v1/indicators", json=good | {"code": "TWICE", "numerator": "N{OVERDUE_PCT} * 2"},
        headers=operator,
    )  # fmt: skip
    assert chained.status_code == 201
    cycle = client.put(
        "/api/v1/indicators/OVERDUE_PCT", json=good | {"numerator": "N{TWICE}"}, headers=operator
    )
    assert cycle.status_code == 422 and cycle.json()["error"]["code"] == "indicator_cycle"
    assert "N{OVERDUE_PCT} → N{TWICE} → N{OVERDUE_PCT}" in cycle.json()["error"]["message"]
    itself = client.post(
        "/api/v1/indicators", json=good | {"code": "SELF", "numerator": "N{SELF} + 1"},
        headers=operator,
    )  # fmt: skip
    assert itself.status_code == 422 and itself.json()["error"]["code"] == "indicator_cycle"


def test_constants_and_disaggregations(client, auth) -> None:
    operator = auth("operator")
    made = client.post(
        "/api/v1/constants", json={"code": "POP_K", "name": "Dân số", "value": 3200.5},
        headers=operator,
    )  # fmt: skip
    assert made.status_code == 201
    assert {"code": "POP_K", "name": "Dân số", "value": 3200.5} in client.get(
        "/api/v1/constants", headers=operator
    ).json()
    changed = client.put(
        "/api/v1/constants/POP_K", json={"name": "Dân số", "value": 3300}, headers=operator
    )
    assert changed.json()["value"] == 3300
    options = [{"code": "LAND", "name": "Đất đai"}, {"code": "BUSINESS", "name": "Kinh doanh"}]
    field = {"code": "FIELD", "name": "Lĩnh vực", "options": options}
    assert client.post("/api/v1/disaggregations", json=field, headers=operator).status_code == 201
    field["options"].append({"code": "TAX", "name": "Thuế"})
    updated = client.put("/api/v1/disaggregations/FIELD", json=field, headers=operator)
    assert [o["code"] for o in updated.json()["options"]] == ["LAND", "BUSINESS", "TAX"]
    listed = client.get("/api/v1/disaggregations", headers=auth("viewer")).json()
    assert "CHANNEL" in {d["code"] for d in listed}


def test_one_value_at_a_time_with_history(client, auth, setup) -> None:
    commune = auth("commune")
    key = {"de": "PROCESSED", "pe": setup, "ou": LOC_THANH, "co": "ONLINE"}
    first = client.put("/api/v1/dataValues", json=key | {"value": "12"}, headers=commune)
    assert first.status_code == 200, first.text
    assert first.json() | {"lastUpdated": None} == {
        "dataElement": "PROCESSED", "period": setup, "orgUnit": LOC_THANH,
        "categoryOptionCombo": "ONLINE", "value": "12", "comment": None, "storedBy": "commune",
        "lastUpdated": None, "historyCount": 1,
    }  # fmt: skip
    second = client.put(
        "/api/v1/dataValues", json=key | {"value": "13", "comment": "sửa"}, headers=commune
    )
    assert second.json()["historyCount"] == 2 and second.json()["comment"] == "sửa"
    same = client.put("/api/v1/dataValues", json=key | {"value": "13"}, headers=commune)
    assert same.json()["historyCount"] == 2
    deleted = client.delete("/api/v1/dataValues", params=key, headers=commune)
    assert deleted.status_code == 200
    assert deleted.json()["value"] is None and deleted.json()["historyCount"] == 3
    history = client.get("/api/v1/dataValues/history", params=key, headers=commune).json()
    assert [(h["action"], h["oldValue"], h["newValue"]) for h in history] == [
        ("delete", "13", None), ("update", "12", "13"), ("create", None, "12"),
    ]  # fmt: skip
    assert {h["source"] for h in history} == {"api"} and history[0]["changedBy"] == "commune"
    assert history[0]["sourceDetail"]  # the client's address


def test_single_value_errors(client, auth, setup) -> None:
    commune = auth("commune")
    other = {"de": "AMOUNT", "pe": setup, "ou": LONG_THANH, "value": "1"}
    refused = client.put("/api/v1/dataValues", json=other, headers=commune)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "out_of_scope"
    read = client.get(
        "/api/v1/dataValues/history", params={**other, "value": None}, headers=commune
    )
    assert read.status_code == 403
    bad = client.put(
        "/api/v1/dataValues", json=other | {"ou": LOC_THANH, "value": "abc"}, headers=commune
    )
    assert bad.status_code == 422 and "is not a number" in bad.json()["error"]["message"]
    closed = client.put(
        "/api/v1/dataValues", json=other | {"ou": LOC_THANH, "pe": "202401"}, headers=commune
    )
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "entry_expired"
    viewer = client.put(
        "/api/v1/dataValues", json=other | {"ou": LOC_THANH}, headers=auth("viewer")
    )
    assert viewer.status_code == 403


def test_data_value_sets_over_http(client, auth, setup) -> None:
    commune, admin = auth("commune"), auth("admin")
    document = {
        "dataSet": "COMMUNE_FORM", "period": setup, "orgUnit": LOC_THANH,
        "dataValues": [
            {"dataElement": "AMOUNT", "value": "5"},
            {"dataElement": "RATE", "value": "101"},
        ],
    }  # fmt: skip
    dry = client.post("/api/v1/dataValueSets?dryRun=true", json=document, headers=commune)
    assert dry.status_code == 200, dry.text
    assert dry.json()["dryRun"] is True and dry.json()["importCount"]["imported"] == 1
    assert dry.json()["status"] == "WARNING"
    assert dry.json()["conflicts"][0]["row"] == 2
    export = {"dataSet": "COMMUNE_FORM", "period": setup}
    assert (
        client.get("/api/v1/dataValueSets", params=export, headers=admin).json()["dataValues"] == []
    )
    done = client.post("/api/v1/dataValueSets", json=document, headers=commune).json()
    assert done["importCount"]["imported"] == 1
    csv_body = f"dataelement,period,orgunit,value\nRATE,{setup},{LOC_THANH},55\n"
    posted = client.post(
        "/api/v1/dataValueSets?filename=rates.csv", content=csv_body.encode(),
        headers=commune | {"Content-Type": "text/csv"},
    )  # fmt: skip
    assert posted.json()["importCount"]["imported"] == 1
    exported = client.get("/api/v1/dataValueSets", params=export, headers=admin)
    values = {(v["dataElement"], v["value"]) for v in exported.json()["dataValues"]}
    assert values == {("AMOUNT", "5"), ("RATE", "55")}
    as_csv = client.get("/api/v1/dataValueSets", params=export | {"format": "csv"}, headers=admin)
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text.splitlines()[0].startswith("dataelement,period,orgunit,catoptcombo")
    again = client.post(
        "/api/v1/dataValueSets",
        content=as_csv.content,
        headers=admin | {"Content-Type": "text/csv"},
    ).json()
    assert again["importCount"] == {"imported": 0, "updated": 0, "ignored": 2, "deleted": 0}
    strategy = client.post(
        "/api/v1/dataValueSets?importStrategy=MERGE", json=document, headers=admin
    )
    assert strategy.status_code == 422
    latin = client.post(
        "/api/v1/dataValueSets", content="AMOUNT,202603,25280,,,Đông".encode("cp1258"),
        headers=admin | {"Content-Type": "text/csv"},
    )  # fmt: skip
    assert latin.status_code == 422 and "UTF-8" in latin.json()["error"]["message"]
    other = client.get(
        "/api/v1/dataValueSets", params=export | {"orgUnit": LONG_THANH}, headers=commune
    )
    assert other.status_code == 403


def test_national_monthly_report(client, auth, runtime) -> None:
    """Values entered on time each month for the Department of Finance (STC) give the month,
    the same month last year and the year to date."""
    monthly = {"RETAIL_SALES": 1000.0, "IIP_YOY": 108.0, "PUBLIC_INV_DISBURSED": 100.0}
    with runtime.sessions() as session:
        for code in ("202501", "202502", "202503", "202601", "202602", "202603"):
            period = parse_period(code)
            step = int(code[-1]) + (10 if code.startswith("2026") else 0)
            rows = [
                ValueRow(element=e, unit="STC", period=code, value=str(v + step))
                for e, v in monthly.items()
            ] + [ValueRow(element="PUBLIC_INV_PLAN", unit="STC", period=code, value="2000")]
            entered = datetime.combine(period.end + timedelta(days=1), time(9), VN)
            summary = save_values(session, None, rows, source="connector", now=entered)
            assert summary.imported == 4, summary.conflicts
        session.commit()
    report = client.get("/api/v1/reports/national-monthly?period=202603", headers=auth("viewer"))
    assert report.status_code == 200, report.text
    rows = {row["indicator"]: row for row in report.json()["rows"]}
    assert [r["number"] for r in report.json()["rows"]] == [
        "1", "2", "3", "4", "5", "6", "7a", "7b", "8",
    ]  # fmt: skip
    assert report.json()["unit"] == "75"
    retail = rows["NAT_RETAIL"]
    assert (retail["value"], retail["sameMonthLastYear"]) == (1013.0, 1003.0)
    assert retail["yearToDate"] == 1011 + 1012 + 1013
    assert retail["yearToDateLastYear"] == 1001 + 1002 + 1003
    assert rows["NAT_IIP"]["yearToDate"] == 120.0  # the average of 119, 120, 121
    assert rows["NAT_PUBINV_RATE"]["value"] == round((111 + 112 + 113) / 2000 * 100, 1)
    assert rows["NAT_EXPORT"]["value"] is None
    as_csv = client.get(
        "/api/v1/reports/national-monthly", params={"period": "202603", "format": "csv"},
        headers=auth("viewer"),
    )  # fmt: skip
    lines = as_csv.text.splitlines()
    assert lines[0].startswith("stt,ma_chi_tieu,chi_tieu")
    assert lines[2].split(",")[:2] == ["2", "NAT_RETAIL"] and lines[2].endswith(
        "1013,1003,3036,3006"
    )
    quarter = client.get("/api/v1/reports/national-monthly?period=2026Q1", headers=auth("viewer"))
    assert quarter.status_code == 422


def test_complete_date_in_an_import_completes_the_form(client, auth, setup) -> None:
    commune = auth("commune")
    document = {
        "dataSet": "COMMUNE_FORM", "period": setup, "orgUnit": LOC_THANH,
        "completeDate": "2026-01-01", "dataValues": [{"dataElement": "AMOUNT", "value": "1"}],
    }  # fmt: skip
    client.post("/api/v1/dataValueSets", content=json.dumps(document), headers=commune)
    status = client.get(
        "/api/v1/forms/COMMUNE_FORM/status", params={"unit": LOC_THANH, "period": setup},
        headers=commune,
    ).json()  # fmt: skip
    assert status["complete"] is True and status["completedBy"] == "commune"
