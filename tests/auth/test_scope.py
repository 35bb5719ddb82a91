"""The unit-scope rule, for every role, through real API calls.

The expectations are written out by hand below rather than derived from the code under test.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dieuhanh.core.access import Principal, Role, Scope
from tests.conftest import ACCOUNTS, LOC_THANH, LONG_THANH

UNITS = {"province": "75", "loc_thanh": LOC_THANH, "long_thanh": LONG_THANH, "health_dept": "SYT"}

# Which units' profile each account may change.
MAY_CHANGE = {
    "admin": {"province", "loc_thanh", "long_thanh", "health_dept"},
    "operator": {"province", "loc_thanh", "long_thanh", "health_dept"},
    "dept": {"health_dept"},
    "commune": {"loc_thanh"},
    "commune2": {"long_thanh"},
    "viewer": set(),
    "viewer_commune": set(),
}
# Whose accounts each account sees in GET /api/v1/users ("all" = every test account).
SEES_USERS = {
    "admin": "all",
    "operator": "all",
    "dept": "all",
    "commune": {"commune", "viewer_commune"},
    "commune2": {"commune2"},
    "viewer": "all",
    "viewer_commune": {"commune", "viewer_commune"},
}


def test_the_table_covers_every_role() -> None:
    assert {a.role for a in ACCOUNTS} == set(Role)
    assert set(MAY_CHANGE) == set(SEES_USERS) == {a.username for a in ACCOUNTS}


@pytest.mark.parametrize("account", [a.username for a in ACCOUNTS])
def test_who_may_change_which_unit(client: TestClient, auth, account: str) -> None:
    headers = auth(account)
    for label, code in UNITS.items():
        response = client.patch(
            f"/api/v1/units/{code}", json={"phone": f"0{len(label)}"}, headers=headers
        )
        if label in MAY_CHANGE[account]:
            assert response.status_code == 200, (account, label, response.text)
        else:
            assert response.status_code == 403, (account, label, response.text)
            error = response.json()["error"]
            assert error["code"] == "out_of_scope"
            assert account in error["message"]


@pytest.mark.parametrize("account", [a.username for a in ACCOUNTS])
def test_who_sees_which_accounts(client: TestClient, auth, account: str) -> None:
    response = client.get("/api/v1/users", headers=auth(account))
    assert response.status_code == 200
    seen = {user["username"] for user in response.json()}
    expected = (
        {a.username for a in ACCOUNTS} if SEES_USERS[account] == "all" else SEES_USERS[account]
    )
    assert seen == expected


def test_a_commune_officer_cannot_read_another_communes_account(client: TestClient, auth) -> None:
    response = client.get("/api/v1/users/commune2", headers=auth("commune"))
    assert response.status_code == 403
    assert "Phường Long Thành" in response.json()["error"]["message"]
    assert client.get("/api/v1/users/viewer_commune", headers=auth("commune")).status_code == 200


def test_audit_log_is_read_within_the_scope(client: TestClient, auth) -> None:
    client.patch(f"/api/v1/units/{LOC_THANH}", json={"phone": "1"}, headers=auth("commune"))
    client.patch(f"/api/v1/units/{LONG_THANH}", json={"phone": "2"}, headers=auth("commune2"))
    own = client.get("/api/v1/audit", headers=auth("commune")).json()
    assert own and {entry["unit_code"] for entry in own} == {LOC_THANH}
    everything = client.get("/api/v1/audit", headers=auth("operator")).json()
    assert {LOC_THANH, LONG_THANH} <= {entry["unit_code"] for entry in everything}
    denied = client.get("/api/v1/audit", headers=auth("viewer"))
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "permission_denied"


def test_only_administrators_manage_accounts(client: TestClient, auth) -> None:
    body = {
        "username": "newcomer",
        "password": "a-long-enough-pass",
        "role": "viewer",
        "unit_code": "75",
    }
    for account in ("operator", "dept", "commune", "viewer"):
        assert client.post("/api/v1/users", json=body, headers=auth(account)).status_code == 403
    assert client.post("/api/v1/users", json=body, headers=auth("admin")).status_code == 201
    promote = client.patch(
        "/api/v1/users/commune", json={"role": "province_admin"}, headers=auth("commune")
    )
    assert promote.status_code == 403


def _principal(role: Role, own: frozenset[int] | None) -> Principal:
    return Principal(
        user_id=1,
        username="u",
        full_name="",
        role=role,
        unit_id=5,
        unit_code="X",
        unit_name="X",
        own_units=own,
        via="api",
    )


def test_scope_objects() -> None:
    commune = _principal(Role.COMMUNE_OFFICER, frozenset({5}))
    assert commune.read_scope.allows(5) and not commune.read_scope.allows(6)
    assert commune.write_scope == Scope(frozenset({5}))
    viewer = _principal(Role.VIEWER, None)
    assert viewer.read_scope.is_everything and viewer.write_scope == Scope.nothing()
    department = _principal(Role.DEPARTMENT_OFFICER, frozenset({7}))
    assert department.read_scope.is_everything and not department.write_scope.allows(5)
    assert not Scope.nothing().allows(None) and Scope.everything().allows(None)
