"""The daily briefing of a unit, on both databases: the alerts raised, the directive steps late,
the citizen reports received in the 24 hours up to 7:00 — from the product's own records;
within the asker's scope; printable on one page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from dieuhanh.alerts.directives import watch
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.runtime import Runtime
from tests.conftest import LOC_THANH

Auth = Callable[[str], dict[str, str]]


def briefing_day(runtime: Runtime) -> str:
    """The day whose briefing window (the 24 hours up to 7:00) holds now."""
    local = datetime.now(ZoneInfo(runtime.settings.timezone))
    return ((local - timedelta(hours=7)).date() + timedelta(days=1)).isoformat()


def test_the_briefing_of_a_commune(client: TestClient, auth: Auth, runtime: Runtime) -> None:
    alert = {"title": "Ngập đường ĐT769", "severity": "major", "unit_code": LOC_THANH}
    client.post("/api/v1/alerts", headers=auth("commune"), json=alert)
    client.post("/api/v1/directives", headers=auth("operator"), json={
        "title": "Báo cáo thiệt hại do mưa", "unit_codes": [LOC_THANH],
        "deadline": (utcnow() + timedelta(hours=2)).isoformat(), "priority": "flash"})  # fmt: skip
    with runtime.sessions() as session:
        watch(session, runtime.settings, utcnow() + timedelta(hours=1, minutes=1))  # not acked
        session.commit()
    client.post("/api/v1/citizen/reports", headers=auth("commune"), json={
        "category": "flooding", "description": "Nước ngập qua đầu gối trước trường học.",
        "address": "xã Lộc Thạnh", "contact_phone": "0912345678"})  # fmt: skip
    day = briefing_day(runtime)
    answer = client.get(f"/api/v1/briefing?unit={LOC_THANH}&date={day}", headers=auth("commune"))
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["unit"]["code"] == LOC_THANH
    assert found["alerts"]["raised"] == 1 and found["alerts"]["by_severity"]["major"] == 1
    assert found["alerts"]["lines"][0]["title"] == "Ngập đường ĐT769"
    assert found["directives"]["late"] == 1
    assert found["directives"]["lines"][0]["step"] == "acknowledge"
    assert found["reports"]["received"] == 1
    # The province sees it too; another commune does not.
    assert client.get(f"/api/v1/briefing?unit={LOC_THANH}&date={day}",
                      headers=auth("operator")).json()["alerts"]["raised"] == 1  # fmt: skip
    assert client.get(f"/api/v1/briefing?unit={LOC_THANH}",
                      headers=auth("commune2")).status_code == 403  # fmt: skip
    yesterday = (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()
    quiet = client.get(f"/api/v1/briefing?date={yesterday}", headers=auth("commune")).json()
    assert quiet["alerts"]["raised"] == 0 and quiet["reports"]["received"] == 0
    page = client.get(f"/briefing?date={day}", headers=auth("commune"))
    assert page.status_code == 200 and "Ngập đường ĐT769" in page.text
    assert "window.print()" in page.text
