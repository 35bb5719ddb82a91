"""Logging in: passwords, bearer tokens, sessions with CSRF, the rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from dieuhanh.auth.models import ApiToken, LoginAttempt, LoginThrottle, User
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.runtime import Runtime
from tests.conftest import PASSWORD, login_form, token_for


def test_token_for_a_good_password(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["access_token"].startswith("dh_")
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "admin" and me.json()["role"] == "province_admin"


def test_user_names_are_case_insensitive(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", json={"username": " Admin ", "password": PASSWORD})
    assert response.status_code == 200


@pytest.mark.parametrize("username", ["admin", "nobody"])
def test_wrong_user_or_password_look_the_same(client: TestClient, username: str) -> None:
    response = client.post(
        "/api/v1/auth/token", json={"username": username, "password": "wrong password"}
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "invalid_credentials", "message": "Wrong user name or password."}
    }


def test_missing_fields_name_the_field(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", json={"username": "admin"})
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("password")


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer dh_this-token-was-never-issued", "invalid_token"),
        ("Bearer ", "invalid_authorization"),
        ("Basic YWRtaW46YWRtaW4=", "invalid_authorization"),
    ],
)
def test_forged_or_malformed_tokens(client: TestClient, header: str, code: str) -> None:
    response = client.get("/api/v1/auth/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code


def test_expired_token(client: TestClient, runtime: Runtime) -> None:
    headers = token_for(client, "viewer")
    with runtime.sessions() as session:
        session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "token_expired" and "expired at" in error["message"]


def test_revoked_token_and_disabled_account(client: TestClient, runtime: Runtime) -> None:
    headers = token_for(client, "viewer")
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).json()["error"]["code"] == "token_revoked"
    headers = token_for(client, "viewer")
    disable = client.patch(
        "/api/v1/users/viewer", json={"is_active": False}, headers=token_for(client, "admin")
    )
    assert disable.status_code == 200
    assert (
        client.get("/api/v1/auth/me", headers=headers).json()["error"]["code"] == "account_disabled"
    )
    refused = client.post("/api/v1/auth/token", json={"username": "viewer", "password": PASSWORD})
    assert refused.status_code == 401


def test_named_api_tokens(client: TestClient) -> None:
    headers = token_for(client, "dept")
    created = client.post(
        "/api/v1/auth/tokens", json={"name": "kết nối LGSP", "expires_in_days": 30}, headers=headers
    )
    assert created.status_code == 201
    token = created.json()["token"]
    program = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/auth/me", headers=program).json()["username"] == "dept"
    listed = client.get("/api/v1/auth/tokens", headers=headers).json()
    assert [t["name"] for t in listed] == ["kết nối LGSP"]
    assert "token" not in listed[0]  # shown once, at creation only
    assert (
        client.delete(f"/api/v1/auth/tokens/{listed[0]['id']}", headers=headers).status_code == 204
    )
    assert client.get("/api/v1/auth/me", headers=program).status_code == 401
    other = client.delete(
        f"/api/v1/auth/tokens/{listed[0]['id']}", headers=token_for(client, "commune")
    )
    assert other.status_code == 404


def test_rate_limit_per_user_name(client: TestClient, runtime: Runtime) -> None:
    limit = runtime.settings.auth.login_max_failures
    for _ in range(limit):
        assert (
            client.post(
                "/api/v1/auth/token", json={"username": "dept", "password": "nope"}
            ).status_code
            == 401
        )
    blocked = client.post("/api/v1/auth/token", json={"username": "dept", "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Too many failed logins" in blocked.json()["error"]["message"]
    # Another account is not affected.
    assert (
        client.post(
            "/api/v1/auth/token", json={"username": "commune", "password": PASSWORD}
        ).status_code
        == 200
    )
    # Once the window has passed, the right password works again.
    with runtime.sessions() as session:
        window = timedelta(seconds=runtime.settings.auth.login_window_seconds + 1)
        for counted in session.scalars(select(LoginThrottle)):
            counted.window_start -= window
        session.commit()
    assert (
        client.post(
            "/api/v1/auth/token", json={"username": "dept", "password": PASSWORD}
        ).status_code
        == 200
    )


def test_attempts_are_recorded(client: TestClient, runtime: Runtime) -> None:
    client.post("/api/v1/auth/token", json={"username": "commune", "password": "nope"})
    client.post("/api/v1/auth/token", json={"username": "commune", "password": PASSWORD})
    with runtime.sessions() as session:
        rows = session.execute(
            select(LoginAttempt.success, func.count())
            .where(LoginAttempt.username == "commune")
            .group_by(LoginAttempt.success)
        ).all()
    assert {success: count for success, count in rows} == {False: 1, True: 1}


def test_passwords_are_stored_with_argon2id(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        hashes = session.scalars(select(User.password_hash)).all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert PASSWORD not in "".join(hashes)


def test_password_policy_on_account_creation(client: TestClient, runtime: Runtime) -> None:
    headers = token_for(client, "admin")
    short = client.post(
        "/api/v1/users",
        headers=headers,
        json={"username": "ngan", "password": "short", "role": "viewer", "unit_code": "75"},
    )
    assert short.status_code == 422
    assert short.json()["error"] == {
        "code": "password_too_short",
        "message": "Password too short: 5 characters, at least 12 are required.",
    }
    with runtime.sessions() as session:
        assert session.scalar(select(User).where(User.username == "ngan")) is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"username": "x y", "role": "viewer", "unit_code": "75"}, "invalid_username"),
        ({"username": "someone", "role": "mayor", "unit_code": "75"}, "invalid_input"),
        (
            {"username": "someone", "role": "commune_officer", "unit_code": "75"},
            "invalid_unit_for_role",
        ),
        ({"username": "someone", "role": "viewer", "unit_code": "12345"}, "unit_not_found"),
        ({"username": "commune", "role": "viewer", "unit_code": "75"}, "user_exists"),
        (
            {"username": "someone", "role": "viewer", "unit_code": "75", "full_name": "x" * 121},
            "invalid_input",
        ),
    ],
)
def test_bad_accounts_are_refused(client: TestClient, body: dict, code: str) -> None:
    response = client.post(
        "/api/v1/users",
        json={"password": "long-enough-password", **body},
        headers=token_for(client, "admin"),
    )
    assert response.status_code in (404, 409, 422)
    assert response.json()["error"]["code"] == code


def test_own_password_change_needs_the_current_one(client: TestClient) -> None:
    headers = token_for(client, "commune")
    wrong = client.patch(
        "/api/v1/users/commune",
        json={"password": "a-new-long-password", "current_password": "x"},
        headers=headers,
    )
    assert wrong.status_code == 401
    done = client.patch(
        "/api/v1/users/commune",
        json={"password": "a-new-long-password", "current_password": PASSWORD},
        headers=headers,
    )
    assert done.status_code == 200
    assert (
        client.post(
            "/api/v1/auth/token", json={"username": "commune", "password": "a-new-long-password"}
        ).status_code
        == 200
    )


def login_page(
    client: TestClient, username: str = "commune", password: str = PASSWORD, next: str = "/"
):
    return login_form(client, username, password, next)


def test_session_login_and_csrf(client: TestClient) -> None:
    response = login_page(client)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.cookies["dieuhanh_session"]
    assert "httponly" in response.headers["set-cookie"].lower()
    assert client.get("/api/v1/auth/me").json()["via"] == "web"
    # A change sent with the cookie but without the session's CSRF token is refused.
    refused = client.patch("/api/v1/units/25280", json={"phone": "1"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    page = client.get("/")
    csrf = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    accepted = client.patch(
        "/api/v1/units/25280", json={"phone": "1"}, headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 200
    assert cookie not in page.text


def test_login_page_errors_and_redirects(client: TestClient) -> None:
    bad = login_page(client, password="wrong")
    assert bad.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in bad.text
    away = login_page(client, next="//evil.example/steal")
    assert away.headers["location"] == "/"
    inside = login_page(client, next="/units/25280")
    assert inside.headers["location"] == "/units/25280"


def test_logout_ends_the_session(client: TestClient) -> None:
    login_page(client)
    page = client.get("/")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert (
        client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    )
    assert client.get("/", follow_redirects=False).headers["location"] == "/login?next=/"


def test_the_last_administrator_cannot_be_removed(client: TestClient) -> None:
    headers = token_for(client, "admin")
    for change in ({"is_active": False}, {"role": "viewer"}):
        response = client.patch("/api/v1/users/admin", json=change, headers=headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "last_administrator"
    second = {
        "username": "admin2",
        "password": "một-mật-khẩu-dài",
        "role": "province_admin",
        "unit_code": "75",
    }
    assert client.post("/api/v1/users", json=second, headers=headers).status_code == 201
    assert (
        client.patch("/api/v1/users/admin", json={"is_active": False}, headers=headers).status_code
        == 200
    )
