"""Sections contributed to the daily briefing (``core.briefing_sections``), on both databases:
a contributor that fails — inside the database, or with a link off this site — is left out and
logged, and the rest of the 7:00 e-mail (the alerts' own sections, the assistant's, another
contributor's) goes out intact and is recorded as sent; the page and the API likewise. What a
contributor says is plain text: escaped in the e-mail's HTML and on the page."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient

from dieuhanh.alerts.briefing_mail import send_briefings
from dieuhanh.app import create_app
from dieuhanh.core.runtime import Runtime
from tests.alerts.broken_section import TITLE
from tests.alerts.test_notifications import give_emails
from tests.conftest import LOC_THANH, token_for
from tests.indicators.reporting.test_reminder_mail import SmtpServer, mail_settings
from tests.indicators.reporting.test_reminder_mail import smtp as smtp  # the fixture

PAGE = "https://ioc.dongnai.gov.vn"
ESCAPED = "Đơn vị &lt;b&gt;thử&lt;/b&gt;"
SITUATION = "Tình hình nổi bật"  # the assistant's section


def next_briefing(runtime: Runtime) -> datetime:
    """The first 7:30 whose briefing (the 24 hours to 7:00) covers what was made just now: today's
    before 7:00 in the province, tomorrow's after."""
    now = datetime.now(runtime.settings.zone)
    day = now.date() if now.time() < time(7) else now.date() + timedelta(days=1)
    return datetime.combine(day, time(7, 30), tzinfo=runtime.settings.zone)


@pytest.fixture
def mailing(
    database_url: str, make_runtime: Callable[..., Runtime], smtp: SmtpServer
) -> Iterator[tuple[Runtime, TestClient]]:
    runtime = make_runtime(database_url, mail=mail_settings(smtp.port),
                           alerts={"cap_public_url": PAGE},
                           plugins=["tests.alerts.broken_section"])  # fmt: skip
    give_emails(runtime, {"operator": "vanhanh@ioc.dongnai.gov.vn"})
    with TestClient(create_app(runtime=runtime)) as client:
        yield runtime, client


def test_a_failing_section_leaves_the_rest_of_the_mail(
    mailing: tuple[Runtime, TestClient], smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    runtime, client = mailing
    operator = token_for(client, "operator")
    client.put("/api/v1/alerts-preferences", headers=operator, json={"briefing": True})
    alert = {"title": "Sạt lở bờ sông Lộc Thạnh", "severity": "major", "unit_code": LOC_THANH}
    assert client.post("/api/v1/alerts", headers=operator, json=alert).status_code == 201
    at = next_briefing(runtime)
    with caplog.at_level(logging.ERROR, logger="dieuhanh.alerts.briefing_sections"):
        assert send_briefings(runtime, at) == "1 sent, 0 failed"
    left_out = {r.getMessage().rsplit("section ", 1)[1] for r in caplog.records if r.exc_info}
    assert left_out == {"'broken_section.failing' left out", "'broken_section.off_site' left out"}
    # Recorded as sent despite the failed statement: a later run sends nothing more.
    assert send_briefings(runtime, at.replace(hour=9)) == "0 sent"

    (mail,) = [m.parsed() for m in smtp.messages]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Cảnh báo: 1 mới (nghiêm trọng 1)" in text and "Sạt lở bờ sông Lộc Thạnh" in text
    assert SITUATION in text and "Số cảnh báo chưa tiếp nhận: 1" in text
    assert f"{TITLE}\n  - Có " in text and f"Kiểm tra: {PAGE}/units?a=1&b=2" in text
    assert "Lừa" not in text and "javascript" not in html
    assert f"<h2>{ESCAPED}</h2>" in html and "<script>" not in html
    assert "&amp; &lt;script&gt;x()&lt;/script&gt;." in html
    assert f'href="{PAGE}/units?a=1&amp;b=2"' in html
    assert html.index(SITUATION) < html.index(ESCAPED) < html.index("Cảnh báo:")


def test_a_failing_section_leaves_the_rest_of_the_page(
    mailing: tuple[Runtime, TestClient],
) -> None:
    _, client = mailing
    operator = token_for(client, "operator")
    found = client.get("/api/v1/briefing", headers=operator)
    assert found.status_code == 200, found.text
    assert [s["title"] for s in found.json()["sections"]] == [SITUATION, TITLE]
    assert found.json()["sections"][1]["sentences"][0]["query"] == "SELECT count(*) FROM units"
    page = client.get("/briefing", headers=operator)
    assert page.status_code == 200 and f"<h2>{ESCAPED}</h2>" in page.text
    assert "&lt;script&gt;x()&lt;/script&gt;" in page.text and "Lừa" not in page.text
    assert 'href="/units?a=1&amp;b=2"' in page.text
