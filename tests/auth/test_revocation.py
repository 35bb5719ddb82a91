"""A password change or a disabled account ends every other session and every token; named
tokens expire (issue #10, finding 5)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from dieuhanh.app import create_app
from dieuhanh.auth.models import ApiToken, WebSession
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.runtime import Runtime
from tests.conftest import PASSWORD, login_form, token_for

NEW_PASSWORD = "một-mật-khẩu-mới-dài"


def named_token(client: TestClient, headers: dict[str, str], **body: object) -> dict[str, str]:
    created = client.post("/api/v1/auth/tokens", json={"name": "LGSP", **body}, headers=headers)
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['token']}"}


def me(client: TestClient, headers: dict[str, str] | None = None) -> tuple[int, str]:
    response = client.get("/api/v1/auth/me", headers=headers or {})
    body = response.json()
    return response.status_code, body.get("username") or body["error"]["code"]


def browser(runtime: Runtime, username: str = "commune") -> TestClient:
    client = TestClient(create_app(runtime=runtime))
    assert login_form(client, username).status_code == 303
    return client


def csrf_of(client: TestClient, path: str = "/account") -> str:
    return client.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


def test_own_password_change_by_api_ends_every_token_and_session(
    client: TestClient, runtime: Runtime
) -> None:
    access = token_for(client, "commune")
    program = named_token(client, access)
    with browser(runtime) as other:
        assert me(other) == (200, "commune")
        changed = client.patch(
            "/api/v1/users/commune",
            json={"password": NEW_PASSWORD, "current_password": PASSWORD},
            headers=access,
        )
        assert changed.status_code == 200
        assert me(client, access) == (401, "token_revoked")
        assert me(client, program) == (401, "token_revoked")
        assert me(other) == (401, "not_authenticated")
    assert me(client, token_for(client, "commune", NEW_PASSWORD)) == (200, "commune")


def test_password_change_on_the_account_page_keeps_this_session_with_a_new_id(
    client: TestClient, runtime: Runtime
) -> None:
    with browser(runtime) as mine, browser(runtime) as elsewhere:
        program = named_token(client, token_for(client, "commune"))
        old_cookie = mine.cookies["dieuhanh_session"]
        changed = mine.post(
            "/account/password",
            data={
                "csrf_token": csrf_of(mine),
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
            },
            follow_redirects=False,
        )
        assert changed.status_code == 303
        new_cookie = mine.cookies["dieuhanh_session"]
        assert new_cookie != old_cookie
        assert me(mine) == (200, "commune")  # this session stays, under its new id
        assert me(elsewhere) == (401, "not_authenticated")
        assert me(client, program) == (401, "token_revoked")
        # The old id is dead even though its session goes on.
        with TestClient(create_app(runtime=runtime), cookies={"dieuhanh_session": old_cookie}) as c:
            assert me(c) == (401, "not_authenticated")
    with runtime.sessions() as session:
        assert len(session.scalars(select(WebSession)).all()) == 1


def test_password_change_by_api_from_a_session_keeps_it_with_a_new_id(
    runtime: Runtime,
) -> None:
    with browser(runtime) as mine, browser(runtime) as elsewhere:
        old_cookie = mine.cookies["dieuhanh_session"]
        changed = mine.patch(
            "/api/v1/users/commune",
            json={"password": NEW_PASSWORD, "current_password": PASSWORD},
            headers={"X-CSRF-Token": csrf_of(mine, "/")},
        )
        assert changed.status_code == 200
        assert mine.cookies["dieuhanh_session"] != old_cookie
        assert me(mine) == (200, "commune")
        assert me(elsewhere) == (401, "not_authenticated")


def test_an_administrators_reset_ends_everything_of_that_account(
    client: TestClient, runtime: Runtime
) -> None:
    access = token_for(client, "viewer")
    program = named_token(client, access)
    with browser(runtime, "viewer") as other:
        reset = client.patch(
            "/api/v1/users/viewer",
            json={"password": NEW_PASSWORD},
            headers=token_for(client, "admin"),
        )
        assert reset.status_code == 200
        assert me(client, access) == (401, "token_revoked")
        assert me(client, program) == (401, "token_revoked")
        assert me(other) == (401, "not_authenticated")


def test_a_disabled_account_stays_logged_out_when_enabled_again(
    client: TestClient, runtime: Runtime
) -> None:
    access = token_for(client, "viewer")
    program = named_token(client, access)
    admin = token_for(client, "admin")
    with browser(runtime, "viewer") as other:
        for active in (False, True):
            response = client.patch(
                "/api/v1/users/viewer", json={"is_active": active}, headers=admin
            )
            assert response.status_code == 200
        assert me(client, access) == (401, "token_revoked")
        assert me(client, program) == (401, "token_revoked")
        assert me(other) == (401, "not_authenticated")
    assert me(client, token_for(client, "viewer")) == (200, "viewer")


def test_the_command_line_reset_ends_sessions_too(client: TestClient, runtime: Runtime) -> None:
    from dieuhanh.auth.service import get_user, set_password

    access = token_for(client, "dept")
    with runtime.sessions() as session:
        set_password(runtime.passwords, get_user(session, "dept"), NEW_PASSWORD)
        session.commit()
    assert me(client, access) == (401, "token_revoked")


def test_named_tokens_expire_by_default(client: TestClient, runtime: Runtime) -> None:
    headers = token_for(client, "dept")
    created = client.post("/api/v1/auth/tokens", json={"name": "LGSP"}, headers=headers)
    expires = created.json()["expires_at"]
    days = runtime.settings.auth.api_token_days
    with runtime.sessions() as session:
        record = session.scalars(select(ApiToken).where(ApiToken.kind == "api")).one()
        assert record.expires_at is not None
        lifetime = record.expires_at - record.created_at
        assert timedelta(days=days) - timedelta(minutes=1) < lifetime <= timedelta(days=days)
    assert expires is not None


def test_a_token_lifetime_is_capped(client: TestClient, runtime: Runtime) -> None:
    headers = token_for(client, "dept")
    longest = runtime.settings.auth.api_token_max_days
    refused = client.post(
        "/api/v1/auth/tokens",
        json={"name": "LGSP", "expires_in_days": longest + 1},
        headers=headers,
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "token_lifetime_too_long" and str(longest) in error["message"]
    accepted = client.post(
        "/api/v1/auth/tokens", json={"name": "LGSP", "expires_in_days": longest}, headers=headers
    )
    assert accepted.status_code == 201


def test_an_expired_named_token_is_refused_with_a_clear_code(
    client: TestClient, runtime: Runtime
) -> None:
    program = named_token(client, token_for(client, "dept"), expires_in_days=7)
    assert me(client, program) == (200, "dept")
    with runtime.sessions() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.kind == "api")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    response = client.get("/api/v1/auth/me", headers=program)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "token_expired" and "expired at" in error["message"]


def test_tokens_made_on_the_account_page_expire(
    runtime: Runtime, make_runtime: Callable[..., Runtime]
) -> None:
    with browser(runtime, "dept") as page:
        made = page.post("/account/tokens", data={"csrf_token": csrf_of(page), "name": "báo cáo"})
        assert made.status_code == 200 and 'id="new-token"' in made.text
    with runtime.sessions() as session:
        record = session.scalars(select(ApiToken).where(ApiToken.kind == "api")).one()
        assert record.expires_at is not None and record.expires_at > utcnow()
