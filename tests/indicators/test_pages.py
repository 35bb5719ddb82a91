"""The indicator dashboard page, rendered server-side: in both languages, within the reader's
scope, per domain. Its figures are drawn in the browser from /api/v1/analytics; the Chromium test
of the entry page (tests/indicators/reporting/test_entry_page.py) checks them changing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.catalog.periods import Period
from tests.conftest import LOC_THANH, LONG_THANH
from tests.indicators.reporting.test_entry_page import (
    INDICATOR,
    build,
    config_of,
    last_month,
    login,
)


@pytest.fixture
def period(runtime: Runtime) -> Period:
    with runtime.sessions() as session:
        build(session, last_month(runtime))
    return last_month(runtime)


def test_the_dashboard_needs_a_session(client: TestClient) -> None:
    response = client.get("/indicators/dashboard", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/indicators/dashboard"


def test_province_dashboard_in_vietnamese_and_english(client: TestClient, period: Period) -> None:
    login(client, "operator")
    page = client.get("/indicators/dashboard")
    assert page.status_code == 200 and '<html lang="vi">' in page.text
    assert "Bảng điều hành chỉ số" in page.text and "Toàn tỉnh" in page.text
    assert f'data-indicator="{INDICATOR}"' in page.text
    assert "Tỷ lệ hồ sơ giải quyết quá hạn" in page.text and "Dịch vụ công" in page.text
    assert 'id="indicator-map"' in page.text and 'id="table-level"' in page.text
    config = config_of(page.text, "dashboard-config")
    assert config["unit"] == "75" and config["seesAll"] is True
    assert config["thisMonth"] == period.next().code
    ours = [i for i in config["indicators"] if i["code"] == INDICATOR]  # type: ignore[union-attr]
    assert ours and ours[0]["direction"] == "lower_is_better" and ours[0]["target"] == 5
    assert ours[0]["legend"][0]["color"] == "green"
    client.get("/lang/en?next=/")
    english = client.get("/indicators/dashboard", params={"indicator": INDICATOR})
    assert '<html lang="en">' in english.text and "Indicator dashboard" in english.text
    assert "Public services" in english.text
    assert config_of(english.text, "dashboard-config")["selected"] == INDICATOR


def test_domains_filter_the_indicators(client: TestClient, period: Period) -> None:
    login(client, "viewer")
    services = client.get("/indicators/dashboard", params={"domain": "public_services"}).text
    assert f'data-indicator="{INDICATOR}"' in services
    codes = [i["domain"] for i in config_of(services, "dashboard-config")["indicators"]]  # type: ignore[union-attr]
    assert codes and set(codes) == {"public_services"}
    elsewhere = client.get("/indicators/dashboard", params={"domain": "security"}).text
    assert f'data-indicator="{INDICATOR}"' not in elsewhere
    unknown = client.get("/indicators/dashboard", params={"domain": "nothing"}).text
    assert f'data-indicator="{INDICATOR}"' in unknown  # an unknown domain: everything


def test_a_commune_sees_its_own_figures(client: TestClient, period: Period) -> None:
    login(client, "commune")
    page = client.get("/indicators/dashboard")
    assert page.status_code == 200 and "Xã Lộc Thạnh" in page.text
    config = config_of(page.text, "dashboard-config")
    assert config["unit"] == LOC_THANH and config["seesAll"] is False
    assert 'id="table-level"' not in page.text
    assert client.get("/indicators/dashboard", params={"unit": LONG_THANH}).status_code == 403
    # Its figures come from the analytics API, which keeps to its scope too.
    rows = client.get(
        "/api/v1/analytics",
        params={"indicator": INDICATOR, "level": "commune", "period": period.code},
    ).json()["rows"]
    assert {row["unit"] for row in rows} <= {LOC_THANH}


def test_the_province_opens_a_communes_dashboard(client: TestClient, period: Period) -> None:
    login(client, "operator")
    page = client.get("/indicators/dashboard", params={"unit": LOC_THANH}).text
    assert "Xã Lộc Thạnh" in page and config_of(page, "dashboard-config")["unit"] == LOC_THANH
    assert f"/indicators/dashboard?domain=public_services&amp;unit={LOC_THANH}" in page
    missing = client.get("/indicators/dashboard", params={"unit": "nowhere"})
    assert missing.status_code == 404
