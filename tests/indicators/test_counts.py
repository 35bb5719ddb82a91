"""Counts cannot be negative (issue #10, finding 9): DHIS2's signed whole-number value types, and
the shipped elements that count things typed ``integer_zero_or_positive``."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest
import yaml
from sqlalchemy import select

from dieuhanh.indicators import demo as indicator_demo
from dieuhanh.indicators.catalog.models import DataElement, ValueType
from dieuhanh.indicators.catalog.periods import PeriodType, period_of
from dieuhanh.indicators.catalog.valuetypes import ValueTypeError, normalize
from dieuhanh.indicators.loader import shipped_files
from tests.conftest import LOC_THANH

COUNT = ValueType.INTEGER_ZERO_OR_POSITIVE


def shipped_elements() -> dict[str, str]:
    elements = {}
    for _, text in shipped_files():
        for element in yaml.safe_load(text).get("dataElements", []):
            elements[element["code"]] = element.get("valueType", "number")
    return elements


@pytest.mark.parametrize(
    ("value_type", "good", "bad"),
    [
        (ValueType.INTEGER_ZERO_OR_POSITIVE, ["0", "7", "+3"], ["-5", "-1"]),
        (ValueType.INTEGER_POSITIVE, ["1", "12"], ["0", "-2"]),
        (ValueType.INTEGER_NEGATIVE, ["-1", "-40"], ["0", "3"]),
        (ValueType.INTEGER, ["-5", "0", "5"], []),
    ],
)
def test_signed_whole_numbers(value_type: ValueType, good: list[str], bad: list[str]) -> None:
    for text in good:
        assert normalize(value_type, text) == (str(int(text)), float(int(text)))
    for text in bad:
        with pytest.raises(ValueTypeError, match="not allowed: the value must be"):
            normalize(value_type, text)
    with pytest.raises(ValueTypeError, match="not a whole number"):
        normalize(value_type, "1.5")


def test_every_shipped_count_is_zero_or_positive() -> None:
    elements = shipped_elements()
    counts = {code for code, value_type in elements.items() if value_type.startswith("integer")}
    assert counts == {
        "DOSSIERS_RECEIVED", "DOSSIERS_PROCESSED", "DOSSIERS_ON_TIME", "DOSSIERS_OVERDUE",
        "DOCS_INCOMING", "DOCS_HANDLED_ON_TIME", "DOCS_OUTGOING", "DOCS_SIGNED_DIGITALLY",
        "REPORTS_1022", "REPORTS_1022_ON_TIME",
    }  # fmt: skip
    assert {elements[code] for code in counts} == {COUNT.value}


def test_the_demo_never_draws_a_negative_count() -> None:
    counts = {code for code, value_type in shipped_elements().items() if value_type == COUNT}
    today = date(2026, 4, 15)
    months = indicator_demo.months_before(today, datetime(2026, 4, 15, tzinfo=UTC))
    drawn = 0
    for seed in range(300):
        rng = random.Random(seed)
        for unit_type in ("commune", "ward", "department"):
            profile = indicator_demo.draw_profile(rng, unit_type)
            for month in months[::5]:
                figures = indicator_demo.unit_figures(rng, profile, month)
                for (code, _), value in figures.items():
                    assert code in counts and value >= 0, (code, value)
                    drawn += 1
    assert drawn > 50_000


def test_a_negative_count_is_refused_and_zero_accepted(client, auth, runtime) -> None:
    commune = auth("commune")
    period = period_of(PeriodType.MONTHLY, runtime.today()).code
    key = {"de": "DOSSIERS_RECEIVED", "pe": period, "ou": LOC_THANH, "co": "ONLINE"}
    refused = client.put("/api/v1/dataValues", json=key | {"value": "-5"}, headers=commune)
    assert refused.status_code == 422, refused.text
    message = refused.json()["error"]["message"]
    assert "DOSSIERS_RECEIVED" in message and "-5 is not allowed" in message
    assert "zero or more" in message
    zero = client.put("/api/v1/dataValues", json=key | {"value": "0"}, headers=commune)
    assert zero.status_code == 200 and zero.json()["value"] == "0"

    document = {
        "dataSet": "COMMUNE_MONTHLY", "period": period, "orgUnit": LOC_THANH,
        "dataValues": [
            {"dataElement": "DOSSIERS_PROCESSED", "categoryOptionCombo": "ONLINE", "value": "-5"},
            {"dataElement": "DOSSIERS_OVERDUE", "categoryOptionCombo": "ONLINE", "value": "0"},
        ],
    }  # fmt: skip
    summary = client.post("/api/v1/dataValueSets", json=document, headers=commune).json()
    assert summary["importCount"]["imported"] == 1
    [conflict] = summary["conflicts"]
    assert conflict["value"] == "-5" and conflict["errorCode"] == "invalid_value"
    assert "DOSSIERS_PROCESSED" in conflict["message"] and "zero or more" in conflict["message"]
    export = {"dataSet": "COMMUNE_MONTHLY", "period": period, "orgUnit": LOC_THANH}
    stored = client.get("/api/v1/dataValueSets", params=export, headers=commune).json()
    assert {(v["dataElement"], v["value"]) for v in stored["dataValues"]} == {
        ("DOSSIERS_RECEIVED", "0"),
        ("DOSSIERS_OVERDUE", "0"),
    }


def test_a_count_typed_integer_narrows_when_its_values_allow(client, auth, runtime) -> None:
    operator, commune = auth("operator"), auth("commune")
    period = period_of(PeriodType.MONTHLY, runtime.today()).code
    body = {"name": "Số cuộc họp", "valueType": "integer", "domain": "public_services"}
    for code in ("MEETINGS", "BALANCE"):
        assert (
            client.post(
                "/api/v1/dataElements", json=body | {"code": code}, headers=operator
            ).status_code
            == 201
        )
    form = client.get("/api/v1/forms/COMMUNE_MONTHLY", headers=operator).json()
    form["elements"] += [{"code": "MEETINGS"}, {"code": "BALANCE"}]
    updated = client.put("/api/v1/forms/COMMUNE_MONTHLY", json=form, headers=operator)
    assert updated.status_code == 200, updated.text
    for code, value in (("MEETINGS", "4"), ("BALANCE", "-3")):
        saved = client.put(
            "/api/v1/dataValues",
            json={"de": code, "pe": period, "ou": LOC_THANH, "value": value},
            headers=commune,
        )
        assert saved.status_code == 200, saved.text
    count = body | {"valueType": COUNT.value}
    narrowed = client.put("/api/v1/dataElements/MEETINGS", json=count, headers=operator)
    assert narrowed.status_code == 200 and narrowed.json()["valueType"] == COUNT.value
    kept = client.put("/api/v1/dataElements/BALANCE", json=count, headers=operator)
    assert kept.status_code == 409 and kept.json()["error"]["code"] == "element_has_values"
    with runtime.sessions() as session:
        rows = session.execute(select(DataElement.code, DataElement.value_type)).all()
    types = {code: value_type for code, value_type in rows}
    assert types["MEETINGS"] == COUNT and types["BALANCE"] == ValueType.INTEGER
