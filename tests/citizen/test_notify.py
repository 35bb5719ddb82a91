"""E-mail to the reporter through a real SMTP server on loopback: a receipt with the report's
link when it arrives, the answer when it is resolved; no address, no mail; a server down is
retried by the subscriber, the report itself untouched."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from dieuhanh.app import create_app
from dieuhanh.citizen.notify import subscriptions
from dieuhanh.core.events import Subscription
from dieuhanh.core.runtime import Runtime
from tests.conftest import token_for
from tests.core.kit import deliver, subscribe
from tests.indicators.reporting.test_reminder_mail import SmtpServer, closed_port, mail_settings
from tests.indicators.reporting.test_reminder_mail import smtp as smtp  # the fixture


@pytest.fixture
def mailing(
    database_url: str, make_runtime: Callable[..., Runtime], smtp: SmtpServer
) -> Iterator[tuple[Runtime, TestClient]]:
    runtime = make_runtime(database_url, mail=mail_settings(smtp.port),
                           citizen={"public_url": "https://ioc.dongnai.gov.vn"})  # fmt: skip
    with TestClient(create_app(runtime=runtime)) as client:
        yield runtime, client


REPORT = {"category": "garbage", "description": "Rác tồn đọng trước chợ.",
          "address": "xã Lộc Thạnh", "contact_email": "nguoidan@example.vn"}  # fmt: skip


def subscribed(runtime: Runtime) -> Subscription:
    """The reporter-mail subscriber, its cursor set before the reports are filed."""
    (subscription,) = subscriptions(runtime)
    subscribe(runtime.sessions, subscription)
    return subscription


def test_the_reporter_gets_a_receipt_and_the_answer(
    mailing: tuple[Runtime, TestClient], smtp: SmtpServer
) -> None:
    runtime, client = mailing
    subscription = subscribed(runtime)
    headers = token_for(client, "operator")
    body = dict(REPORT)
    code = client.post("/api/v1/citizen/reports", json=body, headers=headers).json()["code"]
    client.post("/api/v1/citizen/reports", json={**body, "contact_email": None}, headers=headers)
    deliver(runtime.sessions, subscription)
    assert [m.rcpt_to for m in smtp.messages] == [["nguoidan@example.vn"]]
    receipt = smtp.messages[0].parsed()
    assert receipt["Subject"] == f"Đã nhận phản ánh {code}"
    assert f"https://ioc.dongnai.gov.vn/phan-anh/{code}?t=" in receipt.get_content()
    client.post(f"/api/v1/citizen/reports/{code}/accept", json={}, headers=headers)
    client.post(f"/api/v1/citizen/reports/{code}/resolve", json={"note": "Đã thu gom rác."},
                headers=headers)  # fmt: skip
    deliver(runtime.sessions, subscription)
    answer = smtp.messages[1].parsed()
    assert "Đã thu gom rác." in answer.get_content()


def test_a_mail_server_that_is_down_is_retried(
    database_url: str, make_runtime: Callable[..., Runtime]
) -> None:
    runtime = make_runtime(database_url, mail=mail_settings(closed_port()))
    subscription = subscribed(runtime)
    with TestClient(create_app(runtime=runtime)) as client:
        body = {"category": "garbage", "description": "Rác.", "address": "xã Lộc Thạnh",
                "contact_email": "nguoidan@example.vn"}  # fmt: skip
        made = client.post("/api/v1/citizen/reports", json=body,
                           headers=token_for(client, "operator"))  # fmt: skip
        assert made.status_code == 201  # the report does not wait for the mail
    outcome = deliver(runtime.sessions, subscription)
    assert outcome.delivered == 0 and outcome.retry_at is not None


def test_the_reporter_hears_of_a_refusal_and_a_reopening(
    mailing: tuple[Runtime, TestClient], smtp: SmtpServer
) -> None:
    runtime, client = mailing
    subscription = subscribed(runtime)
    headers = token_for(client, "operator")
    body = dict(REPORT)
    refused = client.post("/api/v1/citizen/reports", json=body, headers=headers).json()["code"]
    reason = {"note": "Khu đất tư nhân, không thuộc thẩm quyền."}
    client.post(f"/api/v1/citizen/reports/{refused}/refuse", json=reason, headers=headers)
    reopened = client.post("/api/v1/citizen/reports", json=body, headers=headers).json()["code"]
    for action, step in (("accept", {}), ("resolve", {"note": "Đã thu gom."}),
                         ("reopen", {"note": "Rác vẫn còn."})):  # fmt: skip
        assert client.post(f"/api/v1/citizen/reports/{reopened}/{action}", json=step,
                           headers=headers).status_code == 200  # fmt: skip
    deliver(runtime.sessions, subscription)
    subjects = {m.parsed()["Subject"]: m.parsed() for m in smtp.messages}
    refusal = subjects[f"Phản ánh {refused} không được tiếp nhận"]
    assert "Khu đất tư nhân, không thuộc thẩm quyền." in refusal.get_content()
    assert f"Phản ánh {reopened} đã được mở lại" in subjects
    assert len(smtp.messages) == 5  # two receipts, a refusal, an answer, a reopening
