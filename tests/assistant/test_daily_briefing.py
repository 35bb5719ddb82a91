"""The daily briefing in words (issue 14 part 4), on both databases, over the demo's two years of
figures: the 7:00 e-mail — the SMTP server on loopback, a fake clock — carries the assistant's
"Tình hình nổi bật": for the province's operator the province's indicators that moved most, with
the figures the analytics API gives, each sentence with the query that gave it and where to
check it; for a commune officer their commune's alone. The sentences are the chat's own
("Tóm tắt tình hình"), and the briefing page and its API show them too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dieuhanh.alerts.briefing_mail import send_briefings
from dieuhanh.app import create_app
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.text import fold
from dieuhanh.indicators import demo as indicator_demo
from dieuhanh.indicators.catalog.periods import PeriodType, period_of
from tests.alerts.test_briefing_sections import next_briefing
from tests.alerts.test_notifications import give_emails
from tests.assistant.test_answers import api_values
from tests.conftest import LOC_THANH, LONG_THANH, token_for
from tests.indicators.reporting.test_reminder_mail import SmtpServer, mail_settings
from tests.indicators.reporting.test_reminder_mail import smtp as smtp  # the fixture

PAGE = "https://ioc.dongnai.gov.vn"
PROVINCE = "75"
TITLE = "Tình hình nổi bật"
OPERATOR, COMMUNE = "vanhanh@ioc.dongnai.gov.vn", "locthanh@dongnai.gov.vn"


@pytest.fixture
def mailing(
    database_url: str, make_runtime: Callable[..., Runtime], smtp: SmtpServer
) -> Iterator[tuple[Runtime, TestClient]]:
    runtime = make_runtime(database_url, mail=mail_settings(smtp.port),
                           alerts={"cap_public_url": PAGE})  # fmt: skip
    assert indicator_demo.ensure_values(runtime)
    give_emails(runtime, {"operator": OPERATOR, "commune": COMMUNE})
    with TestClient(create_app(runtime=runtime)) as client:
        yield runtime, client


def test_the_seven_oclock_mail_says_what_moved_most(
    mailing: tuple[Runtime, TestClient], smtp: SmtpServer
) -> None:
    runtime, client = mailing
    operator, commune = token_for(client, "operator"), token_for(client, "commune")
    for headers in (operator, commune):
        assert client.put("/api/v1/alerts-preferences", headers=headers,
                          json={"briefing": True}).status_code == 200  # fmt: skip
    for unit, title in ((LOC_THANH, "Sạt lở bờ sông Lộc Thạnh"), (LONG_THANH, "Ngập Long Thành")):
        alert = {"title": title, "severity": "major", "unit_code": unit}
        assert client.post("/api/v1/alerts", headers=operator, json=alert).status_code == 201
    at = next_briefing(runtime)
    day = at.date()
    assert send_briefings(runtime, at) == "2 sent, 0 failed"
    mails = {m.rcpt_to[0]: m.parsed() for m in smtp.messages}
    month = period_of(PeriodType.MONTHLY, day).previous()

    province = section(mails[OPERATOR].get_body(("plain",)).get_content())
    leading = expected_movers(client, operator, PROVINCE, month.code, month.previous().code)
    assert_movers(province, leading, "tỉnh Đồng Nai", PROVINCE, month.label("vi"))
    (reporting,) = [s for s in province if s["text"].startswith(f"{month.label('vi')}: ")]
    assert f"cấp: xã, phường; kỳ: {month.label('vi')}" in reporting["query"]
    assert alerts_sentence(province) == open_alerts(client, operator)
    assert any(s["text"].startswith("Số nguồn dữ liệu bị lỗi: ") for s in province)

    mine = section(mails[COMMUNE].get_body(("plain",)).get_content())
    movers = expected_movers(client, commune, LOC_THANH, month.code, month.previous().code)
    assert_movers(mine, movers, "Xã Lộc Thạnh", LOC_THANH, month.label("vi"))
    # Their commune's alone: every query is about Lộc Thạnh; no province, no sources.
    assert all(f"đơn vị: Xã Lộc Thạnh ({LOC_THANH})" in s["query"] for s in mine)
    assert not any("Đồng Nai" in s["text"] + s["query"] for s in mine)
    assert not any("nguồn dữ liệu" in s["text"] for s in mine)
    assert alerts_sentence(mine) == open_alerts(client, commune) == {"open": 1}

    # The chat's own sentences: "Tóm tắt tình hình" asked by the same person says the same.
    asked = client.post("/api/v1/assistant/ask", headers=commune,
                        json={"question": "Tóm tắt tình hình tuần này"}).json()  # fmt: skip
    assert all(s["text"] in asked["answer"] for s in mine[:3])

    # The HTML: the section first, each sentence with its links under the public address.
    html = mails[OPERATOR].get_body(("html",)).get_content()
    code = leading[0]["code"]
    assert f"<h2>{TITLE}</h2>" in html and html.index(TITLE) < html.index("Cảnh báo:")
    assert f'href="{PAGE}/indicators/dashboard?unit={PROVINCE}&amp;indicator={code}"' in html
    assert f'href="{PAGE}/api/v1/analytics?indicator={code}&amp;period=' in html


def test_the_briefing_page_shows_the_section(
    mailing: tuple[Runtime, TestClient],
) -> None:
    runtime, client = mailing
    operator = token_for(client, "operator")
    found = client.get("/api/v1/briefing", headers=operator).json()
    (situation,) = found["sections"]
    assert situation["title"] == TITLE and len(situation["sentences"]) >= 6
    first = situation["sentences"][0]
    assert first["link"].startswith(f"/indicators/dashboard?unit={PROVINCE}&indicator=")
    assert first["data"].startswith("/api/v1/analytics?indicator=")
    assert first["query"].startswith("Phép tính: so sánh kỳ liền trước; chỉ số: ")
    page = client.get(f"/briefing?date={runtime.today().isoformat()}", headers=operator)
    assert page.status_code == 200 and f"<h2>{TITLE}</h2>" in page.text
    assert first["text"] in page.text
    assert f'href="{first["link"].replace("&", "&amp;")}"' in page.text


def section(text: str) -> list[dict[str, str]]:
    """The contributed section of the e-mail's text: each sentence with its check and query."""
    lines = text.split("\n")
    start = lines.index(TITLE) + 1
    sentences: list[dict[str, str]] = []
    for line in lines[start:]:
        if not line:
            break
        if line.startswith("  - "):
            sentences.append({"text": line[4:], "check": "", "query": ""})
        elif line.startswith("    Kiểm tra: "):
            sentences[-1]["check"] = line.removeprefix("    Kiểm tra: ")
        else:
            sentences[-1]["query"] = line.removeprefix("    Truy vấn: ")
    return sentences


def expected_movers(
    client: TestClient, headers: dict[str, str], unit: str, month: str, before: str
) -> list[dict[str, Any]]:
    """The three rate indicators (running totals aside) that moved most at ``unit`` from
    ``before`` to ``month``, by the analytics API's figures."""
    moves = []
    for indicator in client.get("/api/v1/indicators", headers=headers).json():
        if indicator["unitOfMeasure"] != "%" or "luy ke" in fold(indicator["name"]):
            continue
        values = api_values(client, headers, "/api/v1/analytics", indicator=indicator["code"],
                            unit=unit, period=f"{before};{month}")  # fmt: skip
        now, then = values.get((unit, month)), values.get((unit, before))
        if now is None or then is None:
            continue
        decimals = indicator["decimals"]
        move = abs(round(now - then, decimals if decimals is not None else 6))
        moves.append((-move, indicator["code"], indicator | {"now": now, "then": then}))
    return [indicator for *_, indicator in sorted(moves)[:3]]


def assert_movers(
    said: list[dict[str, str]], movers: list[dict[str, Any]], where: str, unit: str, month: str
) -> None:
    assert len(movers) == 3
    for sentence, mover in zip(said, movers, strict=False):
        now, then = _vi(mover["now"], mover["decimals"]), _vi(mover["then"], mover["decimals"])
        assert sentence["text"].startswith(f"{mover['name']} của {where} {month.lower()} là {now}%")
        assert f"là {then}%" in sentence["text"]
        code = mover["code"]
        assert sentence["check"] == f"{PAGE}/indicators/dashboard?unit={unit}&indicator={code}"
        assert f"({code}); đơn vị: " in sentence["query"]
        assert f"; kỳ: {month}; so với kỳ: " in sentence["query"]  # the base period named too


def alerts_sentence(said: list[dict[str, str]]) -> dict[str, int]:
    (sentence,) = [s for s in said if s["text"].startswith("Số cảnh báo chưa tiếp nhận: ")]
    counts = [part.rsplit(": ", 1)[1].rstrip(".") for part in sentence["text"].split("; ")]
    named = zip(("open", "acknowledged"), counts, strict=True)
    return {state: int(n) for state, n in named if n != "0"}


def open_alerts(client: TestClient, headers: dict[str, str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for alert in client.get("/api/v1/alerts?limit=1000", headers=headers).json():
        if alert["state"] in ("open", "acknowledged"):
            found[alert["state"]] = found.get(alert["state"], 0) + 1
    return found


def _vi(value: float, decimals: int | None) -> str:
    assert decimals is not None  # the demo's rates have their decimals
    return f"{value:.{decimals}f}".replace(".", ",")
