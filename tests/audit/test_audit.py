"""Every change is recorded: who, what, when, before and after; secrets never."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from dieuhanh.audit.models import AuditEntry
from dieuhanh.audit.recorder import REDACTED
from dieuhanh.core.runtime import Runtime
from tests.conftest import LOC_THANH, PASSWORD, token_for


def entries(runtime: Runtime, entity_type: str) -> list[AuditEntry]:
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity_type == entity_type)
                .order_by(AuditEntry.id)
            )
        )


def test_a_profile_change_is_recorded_with_before_and_after(
    client: TestClient, runtime: Runtime
) -> None:
    headers = token_for(client, "commune")
    client.patch(f"/api/v1/units/{LOC_THANH}", json={"phone": "0271 111"}, headers=headers)
    client.patch(f"/api/v1/units/{LOC_THANH}", json={"phone": "0271 222"}, headers=headers)
    last = entries(runtime, "units")[-1]
    assert (last.action, last.actor, last.via) == ("update", "commune", "api")
    assert (last.before, last.after) == ({"phone": "0271 111"}, {"phone": "0271 222"})
    assert last.entity_label == f"Xã Lộc Thạnh ({LOC_THANH})"
    assert last.request_id and last.client_ip


def test_secrets_never_reach_the_log(client: TestClient, runtime: Runtime) -> None:
    admin = token_for(client, "admin")
    client.post(
        "/api/v1/users",
        headers=admin,
        json={
            "username": "moi",
            "password": "một-mật-khẩu-dài",
            "role": "viewer",
            "unit_code": "75",
        },
    )
    created = entries(runtime, "users")[-1]
    assert created.action == "create" and created.actor == "admin"
    assert created.after["password_hash"] == REDACTED and created.after["username"] == "moi"
    token = client.post("/api/v1/auth/tokens", json={"name": "máy chủ"}, headers=admin).json()[
        "token"
    ]
    with runtime.sessions() as session:
        everything = " ".join(str((e.before, e.after)) for e in session.scalars(select(AuditEntry)))
    assert token not in everything and "$argon2" not in everything and PASSWORD not in everything
    assert entries(runtime, "api_tokens")[-1].after["token_hash"] == REDACTED


def test_logins_are_not_changes(client: TestClient, runtime: Runtime) -> None:
    before = len(entries(runtime, "users")) + len(entries(runtime, "api_tokens"))
    token_for(client, "viewer")
    token_for(client, "viewer")
    assert len(entries(runtime, "users")) + len(entries(runtime, "api_tokens")) == before


def test_a_refused_change_leaves_no_entry(client: TestClient, runtime: Runtime) -> None:
    headers = token_for(client, "commune")
    before = len(entries(runtime, "units"))
    assert client.patch("/api/v1/units/75", json={"phone": "1"}, headers=headers).status_code == 403
    assert (
        client.patch(
            f"/api/v1/units/{LOC_THANH}", json={"phone": "1" * 41}, headers=headers
        ).status_code
        == 422
    )
    assert len(entries(runtime, "units")) == before


def test_renames_are_recorded_on_both_name_rows(client: TestClient, runtime: Runtime) -> None:
    client.post(
        f"/api/v1/units/{LOC_THANH}/rename",
        headers=token_for(client, "admin"),
        json={
            "name": "Phường Lộc Thạnh",
            "type": "ward",
            "effective_date": "2027-01-01",
            "note": "Nghị quyết số …/NQ-UBTVQH",
        },
    )
    names = entries(runtime, "unit_names")
    closed, opened = names[-2:]
    assert {closed.action, opened.action} == {"update", "create"}
    assert next(e for e in (closed, opened) if e.action == "update").after == {
        "valid_to": "2027-01-01"
    }


def test_audit_api_filters_and_counts(client: TestClient) -> None:
    headers = token_for(client, "admin")
    client.patch(
        f"/api/v1/units/{LOC_THANH}", json={"email": "locthanh@dongnai.gov.vn"}, headers=headers
    )
    response = client.get(
        "/api/v1/audit", params={"unit": LOC_THANH, "entity_type": "units"}, headers=headers
    )
    assert response.status_code == 200
    assert int(response.headers["X-Total-Count"]) == len(response.json()) >= 1
    assert response.json()[0]["after"] == {"email": "locthanh@dongnai.gov.vn"}
    assert response.json()[0]["unit_code"] == LOC_THANH
