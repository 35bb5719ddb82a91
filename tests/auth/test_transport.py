"""The login form's CSRF token, Secure cookies on HTTPS and HSTS (issue #10, finding 9)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from dieuhanh.app import create_app
from dieuhanh.core.runtime import Runtime
from tests.conftest import PASSWORD, login_form

LOGIN_CSRF_COOKIE = "dieuhanh_login_csrf"


def form_token(client: TestClient) -> str:
    page = client.get("/login")
    return page.text.split('name="login_csrf" value="')[1].split('"')[0]


def test_the_login_form_works_with_its_token(client: TestClient) -> None:
    response = login_form(client, "commune")
    assert response.status_code == 303 and "dieuhanh_session" in response.cookies
    assert client.get("/api/v1/auth/me").json()["username"] == "commune"


def test_a_cross_site_login_without_the_token_is_refused(runtime: Runtime) -> None:
    # Another site's page can make the browser POST the form, but cannot read our page for the
    # token nor set our cookie: it sends neither, or a guess.
    with TestClient(create_app(runtime=runtime)) as victim:
        body = {"username": "commune", "password": PASSWORD, "next": "/"}
        for extra in ({}, {"login_csrf": "guessed"}):
            response = victim.post("/login", data=body | extra, follow_redirects=False)
            assert response.status_code == 403
            assert "dieuhanh_session" not in response.cookies
        # A token from the attacker's own visit does not match the victim's cookie.
        with TestClient(create_app(runtime=runtime)) as attacker:
            stolen = form_token(attacker)
        form_token(victim)  # the victim has a cookie of its own
        response = victim.post("/login", data=body | {"login_csrf": stolen}, follow_redirects=False)
        assert response.status_code == 403 and "dieuhanh_session" not in response.cookies
        assert victim.get("/api/v1/auth/me").status_code == 401


def test_the_refused_form_says_why_and_can_be_sent_again(client: TestClient) -> None:
    refused = client.post(
        "/login", data={"username": "commune", "password": PASSWORD}, follow_redirects=False
    )
    assert refused.status_code == 403 and 'id="login-error"' in refused.text
    # The page that says so carries a fresh token: sending the form again works.
    csrf = refused.text.split('name="login_csrf" value="')[1].split('"')[0]
    again = client.post(
        "/login",
        data={"username": "commune", "password": PASSWORD, "login_csrf": csrf},
        follow_redirects=False,
    )
    assert again.status_code == 303


def test_the_pre_session_cookie(client: TestClient) -> None:
    page = client.get("/login")
    header = page.headers["set-cookie"].lower()
    assert f"{LOGIN_CSRF_COOKIE}=" in header
    assert "httponly" in header and "samesite=strict" in header and "secure" not in header


def cookie_headers(response: object) -> list[str]:
    return [v.lower() for k, v in response.headers.multi_items() if k.lower() == "set-cookie"]  # type: ignore[attr-defined]


def test_cookies_are_secure_and_hsts_is_sent_over_https(runtime: Runtime) -> None:
    with TestClient(create_app(runtime=runtime), base_url="https://ioc.example") as client:
        page = client.get("/login")
        assert all("; secure" in c for c in cookie_headers(page))
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
        response = login_form(client, "commune")
        assert response.status_code == 303
        session_cookie = [c for c in cookie_headers(response) if c.startswith("dieuhanh_session=")]
        assert session_cookie and "; secure" in session_cookie[0]


def test_no_hsts_over_plain_http(client: TestClient) -> None:
    page = client.get("/login")
    assert "Strict-Transport-Security" not in page.headers
    response = login_form(client, "commune")
    session_cookie = [c for c in cookie_headers(response) if c.startswith("dieuhanh_session=")]
    assert session_cookie and "secure" not in session_cookie[0]


def test_https_behind_a_trusted_proxy(
    database_url: str, make_runtime: Callable[..., Runtime]
) -> None:
    runtime = make_runtime(database_url, auth={"trusted_proxies": ["10.0.0.0/24"]})
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.23"}
    with TestClient(create_app(runtime=runtime), client=("10.0.0.5", 5000)) as proxy:
        proxy.headers.update(proxied)
        page = proxy.get("/login")
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert all("; secure" in c for c in cookie_headers(page))
        # The client's address is the one the proxy names: the login history records it.
        bad = proxy.post(
            "/api/v1/auth/token", json={"username": "viewer", "password": "wrong password"}
        )
        assert bad.status_code == 401
    from sqlalchemy import select

    from dieuhanh.auth.models import LoginAttempt

    with runtime.sessions() as session:
        assert session.scalars(select(LoginAttempt.client_ip)).all() == ["198.51.100.23"]
    # The same headers from an address that is not a trusted proxy are ignored.
    with TestClient(create_app(runtime=runtime), client=("203.0.113.8", 5000)) as stranger:
        stranger.headers.update(proxied)
        page = stranger.get("/login")
        assert "Strict-Transport-Security" not in page.headers
        assert not any("; secure" in c for c in cookie_headers(page))


def test_hsts_can_be_turned_off(database_url: str, make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime(database_url, auth={"hsts_seconds": 0})
    with TestClient(create_app(runtime=runtime), base_url="https://ioc.example") as client:
        assert "Strict-Transport-Security" not in client.get("/login").headers
