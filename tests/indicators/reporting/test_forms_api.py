"""HTTP API of report forms: the forms, validation rules, completion, approval, exceptions."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dieuhanh.indicators.catalog.periods import PeriodType, period_of
from tests.conftest import LOC_THANH, LONG_THANH
from tests.indicators.entry_setup import VN, build


@pytest.fixture
def month(runtime) -> str:
    with runtime.sessions() as session:
        build(session)
    return period_of(PeriodType.MONTHLY, runtime.today()).code


def test_forms_crud(client, auth) -> None:
    operator = auth("operator")
    body = {
        "code": "WARDS", "name": "Biểu phường", "periodType": "quarterly", "timelyDays": 5,
        "expiryDays": None, "approvalRequired": False, "hideUnapproved": False,
        "elements": ["DOCS_INCOMING", {"code": "DOCS_OUTGOING", "section": "Văn bản"}],
        "units": ["@communes"],
    }  # fmt: skip
    assert client.post("/api/v1/forms", json=body, headers=auth("commune")).status_code == 403
    created = client.post("/api/v1/forms", json=body, headers=operator)
    assert created.status_code == 201, created.text
    form = created.json()
    assert form["elements"] == [
        {"code": "DOCS_INCOMING", "section": None},
        {"code": "DOCS_OUTGOING", "section": "Văn bản"},
    ]
    assert len(form["units"]) == 95 and LOC_THANH in form["units"]
    narrowed = client.put(
        "/api/v1/forms/WARDS", json=body | {"units": [LOC_THANH], "timelyDays": 3},
        headers=operator,
    )  # fmt: skip
    assert narrowed.json()["units"] == [LOC_THANH] and narrowed.json()["timelyDays"] == 3
    listed = client.get("/api/v1/forms", headers=auth("viewer")).json()
    assert {"WARDS", "COMMUNE_MONTHLY", "NATIONAL_MONTHLY"} <= {f["code"] for f in listed}
    wrong = client.post(
        "/api/v1/forms", json=body | {"code": "W2", "elements": ["NOPE"], "units": ["0000x"]},
        headers=operator,
    )  # fmt: skip
    assert wrong.status_code == 422 and "NOPE" in wrong.json()["error"]["message"]
    assert client.get("/api/v1/forms/NOPE", headers=operator).status_code == 404


def test_validation_rules(client, auth) -> None:
    operator = auth("operator")
    rule = {
        "code": "SIGNED_LE_ALL", "name": "Ký số ≤ văn bản đi",
        "left": "#{DOCS_SIGNED_DIGITALLY}", "operator": "<=", "right": "#{DOCS_OUTGOING}",
        "importance": "high", "missingValueStrategy": "skip_if_any_missing",
        "form": "COMMUNE_MONTHLY", "periodType": "monthly", "instruction": None,
    }  # fmt: skip
    created = client.post("/api/v1/validationRules", json=rule, headers=operator)
    assert created.status_code == 201, created.text
    assert created.json() == rule
    assert rule in client.get("/api/v1/validationRules", headers=auth("viewer")).json()
    bad = client.post(
        "/api/v1/validationRules", json=rule | {"code": "BAD", "right": "#{DOCS_OUTGOING"},
        headers=operator,
    )  # fmt: skip
    assert bad.status_code == 422 and bad.json()["error"]["message"].startswith("right of BAD")
    unknown_form = client.post(
        "/api/v1/validationRules", json=rule | {"code": "B2", "form": "NOPE"}, headers=operator
    )
    assert unknown_form.status_code == 422
    wrong_operator = client.post(
        "/api/v1/validationRules", json=rule | {"code": "B3", "operator": "=<"}, headers=operator
    )
    assert wrong_operator.status_code == 422


def status(client, headers, unit, period):
    return client.get(
        "/api/v1/forms/COMMUNE_FORM/status", params={"unit": unit, "period": period},
        headers=headers,
    ).json()  # fmt: skip


def test_complete_approve_lock_unapprove(client, auth, month) -> None:
    commune, operator = auth("commune"), auth("operator")
    value = {"de": "AMOUNT", "pe": month, "ou": LOC_THANH, "value": "7"}
    assert client.put("/api/v1/dataValues", json=value, headers=commune).status_code == 200
    target = {"unit": LOC_THANH, "period": month}
    early = client.post("/api/v1/forms/COMMUNE_FORM/approvals", json=target, headers=operator)
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_complete"
    done = client.post("/api/v1/forms/COMMUNE_FORM/completions", json=target, headers=commune)
    assert done.status_code == 200, done.text
    assert done.json()["complete"] and done.json()["onTime"] is True
    assert done.json()["completedBy"] == "commune"
    other = {"unit": LONG_THANH, "period": month}
    refused = client.post("/api/v1/forms/COMMUNE_FORM/completions", json=other, headers=commune)
    assert refused.status_code == 403
    by_commune = client.post("/api/v1/forms/COMMUNE_FORM/approvals", json=target, headers=commune)
    assert by_commune.status_code == 403
    approved = client.post("/api/v1/forms/COMMUNE_FORM/approvals", json=target, headers=operator)
    assert approved.json()["approved"] and approved.json()["approvedBy"] == "operator"
    assert approved.json()["entryOpen"] is False
    locked = client.put("/api/v1/dataValues", json=value | {"value": "8"}, headers=commune)
    assert locked.status_code == 409 and locked.json()["error"]["code"] == "entry_approved"
    assert "approved by operator" in locked.json()["error"]["message"]
    reopen = client.delete("/api/v1/forms/COMMUNE_FORM/completions", params=target, headers=commune)
    assert reopen.status_code == 409
    withdrawn = client.delete(
        "/api/v1/forms/COMMUNE_FORM/approvals", params=target, headers=operator
    )
    assert withdrawn.json()["approved"] is False and withdrawn.json()["entryOpen"] is True
    assert (
        client.put("/api/v1/dataValues", json=value | {"value": "8"}, headers=commune).json()[
            "value"
        ]
        == "8"
    )
    reopened = client.delete(
        "/api/v1/forms/COMMUNE_FORM/completions", params=target, headers=commune
    )
    assert reopened.json()["complete"] is False
    assert status(client, commune, LOC_THANH, month)["complete"] is False


def test_exception_reopens_a_closed_period(client, auth, month) -> None:
    commune, admin = auth("commune"), auth("admin")
    value = {"de": "AMOUNT", "pe": "202401", "ou": LOC_THANH, "value": "1"}
    assert client.put("/api/v1/dataValues", json=value, headers=commune).status_code == 409
    closed = status(client, commune, LOC_THANH, "202401")
    assert (
        closed["entryOpen"] is False
        and "closed at the end of 15/02/2024" in (closed["entryClosedReason"])
    )
    grant = {
        "unit": LOC_THANH, "period": "202401", "reason": "Bổ sung số liệu theo đề nghị của xã",
        "openUntil": (datetime.now(VN) + timedelta(days=2)).isoformat(),
    }  # fmt: skip
    assert (
        client.post(
            "/api/v1/forms/COMMUNE_FORM/exceptions", json=grant, headers=commune
        ).status_code
        == 403
    )
    granted = client.post("/api/v1/forms/COMMUNE_FORM/exceptions", json=grant, headers=admin)
    assert granted.status_code == 201, granted.text
    assert granted.json()["grantedBy"] == "admin" and granted.json()["unit"] == LOC_THANH
    assert client.put("/api/v1/dataValues", json=value, headers=commune).status_code == 200
    past = grant | {"openUntil": "2024-01-01T00:00:00+07:00"}
    refused = client.post("/api/v1/forms/COMMUNE_FORM/exceptions", json=past, headers=admin)
    assert refused.status_code == 422
    wrong_type = client.post(
        "/api/v1/forms/COMMUNE_FORM/exceptions", json=grant | {"period": "2024Q1"}, headers=admin
    )
    assert wrong_type.status_code == 422 and "monthly form" in wrong_type.json()["error"]["message"]


def test_a_commune_cannot_read_another_communes_status(client, auth, month) -> None:
    response = client.get(
        "/api/v1/forms/COMMUNE_FORM/status", params={"unit": LONG_THANH, "period": month},
        headers=auth("commune"),
    )  # fmt: skip
    assert response.status_code == 403
