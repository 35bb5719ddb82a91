"""Pages of the web shell, rendered server-side, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dieuhanh.core.web.i18n import catalog
from tests.conftest import LONG_THANH, login_form

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "dieuhanh"


def login(client: TestClient, username: str) -> None:
    assert login_form(client, username).status_code == 303


def test_login_page_speaks_vietnamese_by_default_and_english_on_request(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200 and '<html lang="vi">' in page.text and "Đăng nhập" in page.text
    client.get("/lang/en?next=/login")
    english = client.get("/login")
    assert '<html lang="en">' in english.text and "Log in" in english.text


def test_pages_need_a_session(client: TestClient) -> None:
    response = client.get("/units/25280", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/units/25280"


@pytest.mark.parametrize("account", ["admin", "operator", "dept", "commune", "viewer"])
def test_every_role_gets_the_shell(client: TestClient, account: str) -> None:
    login(client, account)
    for path in (
        "/",
        "/units",
        "/units?tab=departments",
        "/units?q=loc+thanh",
        "/units/25280",
        "/units/75",
        "/account",
    ):
        response = client.get(path)
        assert response.status_code == 200, (account, path)
        assert 'class="topbar"' in response.text


def test_navigation_follows_permissions(client: TestClient) -> None:
    login(client, "commune")
    page = client.get("/").text
    assert 'href="/units"' in page and 'href="/users"' not in page
    assert client.get("/users").status_code == 403
    login(client, "admin")
    assert 'href="/users"' in client.get("/").text
    assert client.get("/users").status_code == 200
    assert client.get("/audit").status_code == 200


def test_unit_page_shows_names_over_time_in_dd_mm_yyyy(client: TestClient) -> None:
    login(client, "viewer")
    page = client.get(f"/units/{LONG_THANH}").text
    assert "Phường Long Thành" in page and "Xã Long Thành" in page
    assert "01/07/2025" in page and "02/08/2026" in page


def test_profile_form_respects_the_scope(client: TestClient) -> None:
    login(client, "commune")
    own = client.get("/units/25280").text
    assert 'id="profile-form"' in own
    assert 'id="profile-form"' not in client.get(f"/units/{LONG_THANH}").text
    csrf = own.split('name="csrf_token" value="')[1].split('"')[0]
    saved = client.post(
        "/units/25280", data={"csrf_token": csrf, "phone": "0271 999"}, follow_redirects=False
    )
    assert saved.status_code == 303 and "message=saved" in saved.headers["location"]
    forged = client.post("/units/25280", data={"csrf_token": "forged", "phone": "1"})
    assert forged.status_code == 403
    other = client.post(f"/units/{LONG_THANH}", data={"csrf_token": csrf, "phone": "1"})
    assert other.status_code == 403


def test_unit_list_search_works_without_javascript(client: TestClient) -> None:
    login(client, "viewer")
    page = client.get("/units", params={"q": "xa loc thanh"}).text
    assert "Xã Lộc Thạnh" in page


def test_admin_creates_an_account_from_the_page(client: TestClient) -> None:
    login(client, "admin")
    csrf = client.get("/users").text.split('name="csrf_token" value="')[1].split('"')[0]
    short = client.post(
        "/users",
        data={
            "csrf_token": csrf,
            "username": "ngan",
            "role": "viewer",
            "unit_code": "75",
            "password": "short",
        },
    )
    assert short.status_code == 422 and "Password too short" in short.text
    made = client.post(
        "/users",
        data={
            "csrf_token": csrf,
            "username": "canbo.moi",
            "role": "viewer",
            "unit_code": "75",
            "password": "một-mật-khẩu-dài",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303


def test_account_page_creates_a_token_shown_once(client: TestClient) -> None:
    login(client, "dept")
    csrf = client.get("/account").text.split('name="csrf_token" value="')[1].split('"')[0]
    page = client.post("/account/tokens", data={"csrf_token": csrf, "name": "LGSP"}).text
    token = re.search(r'id="new-token">(dh_[^<]+)<', page).group(1)
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    assert token not in client.get("/account").text


def test_both_catalogs_have_the_same_keys() -> None:
    assert set(catalog("vi")) == set(catalog("en"))
    assert all(value.strip() for value in catalog("vi").values())


def test_every_message_key_used_exists() -> None:
    keys = set(catalog("vi"))
    used: set[str] = set()
    for template in PACKAGE.rglob("templates/**/*.html"):
        used |= set(re.findall(r"""\bt\(\s*'([a-z_.]+)'\s*\)""", template.read_text()))
    for script in (PACKAGE / "web" / "static" / "js").glob("*.js"):
        used |= set(re.findall(r"""\bt\(\s*'(js\.[a-z_.]+)'""", script.read_text()))
    assert used and used - keys == set()


def test_assets_are_served_from_the_package_only() -> None:
    """Offline first: no page or script loads anything from another host."""
    external = re.compile(
        r"""(src|href)\s*=\s*["']https?://|url\(\s*["']?https?://|import .* from ["']https?://"""
    )
    files = [
        *PACKAGE.rglob("templates/**/*.html"),
        # The shell's own and every capability's static folder (vendored libraries excepted).
        *PACKAGE.glob("**/static/js/*.js"),
        *PACKAGE.glob("**/static/css/*.css"),
    ]
    assert files
    offenders = [str(f) for f in files if external.search(f.read_text())]
    assert offenders == []
    vendored = PACKAGE / "core" / "web" / "static" / "vendor"
    assert (vendored / "leaflet" / "leaflet.js").stat().st_size > 100_000
    assert "leaflet@1.9.4" in (vendored / "VERSIONS.txt").read_text()


def test_vendored_assets_are_served(client: TestClient) -> None:
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
    assert client.get("/static/js/map.js").headers["content-type"].startswith("text/javascript")
