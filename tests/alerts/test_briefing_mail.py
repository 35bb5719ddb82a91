"""The daily briefing by e-mail, on both databases, through the SMTP server on loopback and a
fake clock: nothing before 7:00; at 7:30 each person who asked gets their own unit's briefing
(a commune's holds its alerts, not another commune's), as text and HTML with a link to the page;
a second run — or a restart — sends nothing more that day."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient

from dieuhanh.alerts.briefing_mail import send_briefings
from dieuhanh.alerts.jobs import jobs
from dieuhanh.app import create_app
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.runtime import Runtime
from tests.alerts.test_notifications import give_emails
from tests.conftest import LOC_THANH, LONG_THANH, token_for
from tests.indicators.reporting.test_reminder_mail import SmtpServer, mail_settings
from tests.indicators.reporting.test_reminder_mail import smtp as smtp  # the fixture

PAGE = "https://ioc.dongnai.gov.vn"


@pytest.fixture
def mailing(
    database_url: str, make_runtime: Callable[..., Runtime], smtp: SmtpServer
) -> Iterator[tuple[Runtime, TestClient]]:
    runtime = make_runtime(database_url, mail=mail_settings(smtp.port),
                           alerts={"cap_public_url": PAGE})  # fmt: skip
    give_emails(runtime, {"operator": "vanhanh@ioc.dongnai.gov.vn",
                          "commune": "locthanh@dongnai.gov.vn",
                          "commune2": "longthanh@dongnai.gov.vn"})  # fmt: skip
    with TestClient(create_app(runtime=runtime)) as client:
        yield runtime, client


def test_the_briefing_is_mailed_once_at_seven(
    mailing: tuple[Runtime, TestClient], smtp: SmtpServer
) -> None:
    runtime, client = mailing
    operator = token_for(client, "operator")
    for who in ("operator", "commune"):  # Long Thành's officer did not ask for it
        asked = client.put("/api/v1/alerts-preferences", headers=token_for(client, who),
                           json={"briefing": True})  # fmt: skip
        assert asked.status_code == 200 and asked.json()["briefing"] is True
    for unit, title in ((LOC_THANH, "Sạt lở bờ sông Lộc Thạnh"), (LONG_THANH, "Ngập Long Thành")):
        alert = {"title": title, "severity": "major", "unit_code": unit}
        made = client.post("/api/v1/alerts", headers=operator, json=alert)
        assert made.status_code == 201
    # The morning whose 24 hours hold these alerts, province time.
    zone = runtime.settings.zone
    day = (utcnow().astimezone(zone) - timedelta(hours=7)).date() + timedelta(days=1)
    at = datetime.combine(day, time(6, 59), tzinfo=zone)
    assert send_briefings(runtime, at) == "not yet time"
    assert smtp.messages == []
    assert send_briefings(runtime, at + timedelta(minutes=31)) == "2 sent, 0 failed"
    # Later that morning (a new run keeps nothing in memory: as after a restart), nothing more.
    assert send_briefings(runtime, at + timedelta(hours=3)) == "0 sent"
    assert [j.interval_seconds for j in jobs(runtime) if j.name == "alerts.briefing"] == [300]
    mails = {m.rcpt_to[0]: m.parsed() for m in smtp.messages}
    assert sorted(mails) == ["locthanh@dongnai.gov.vn", "vanhanh@ioc.dongnai.gov.vn"]
    commune = mails["locthanh@dongnai.gov.vn"]
    assert commune["Subject"] == f"Bản tin điều hành ngày {day:%d/%m/%Y} — Xã Lộc Thạnh"
    text = commune.get_body(("plain",)).get_content()
    html = commune.get_body(("html",)).get_content()
    assert "Sạt lở bờ sông Lộc Thạnh" in text and "Ngập Long Thành" not in text
    assert "Cảnh báo: 1 mới (nghiêm trọng 1)" in text
    link = f"{PAGE}/briefing?unit={LOC_THANH}&amp;date={day.isoformat()}"
    assert link in html and "<li>Nghiêm trọng — Sạt lở bờ sông Lộc Thạnh</li>" in html
    province = mails["vanhanh@ioc.dongnai.gov.vn"].get_body(("plain",)).get_content()
    assert "Sạt lở bờ sông Lộc Thạnh" in province and "Ngập Long Thành" in province
