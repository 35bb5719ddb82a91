"""Notifications, for real: e-mail through an SMTP server on loopback to the people whose scope
and preferences want the alert (quiet hours excepted for critical), signed webhooks to a local
receiver; a receiver that hangs or fails is retried with backoff and never holds up the rest."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dieuhanh.alerts.models import AlertDelivery
from dieuhanh.alerts.notify import send_due
from dieuhanh.alerts.notify import subscriptions as notify_subscriptions
from dieuhanh.app import create_app
from dieuhanh.auth.models import User
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.runtime import Runtime
from tests.conftest import LOC_THANH, token_for
from tests.core.kit import deliver, subscribe
from tests.indicators.reporting.test_reminder_mail import SmtpServer, mail_settings
from tests.indicators.reporting.test_reminder_mail import smtp as smtp  # the fixture


class Receiver:
    """A webhook receiver on loopback: /ok answers 204, /broken 500, /hang never in time."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.received.append((self.path, dict(self.headers), body))
                if self.path == "/hang":
                    outer.release.wait(10)
                self.send_response({"/ok": 204, "/broken": 500}.get(self.path, 204))
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def give_emails(runtime: Runtime, emails: dict[str, str]) -> None:
    with runtime.sessions() as session:
        for username, email in emails.items():
            session.scalars(select(User).where(User.username == username)).one().email = email
        session.commit()


@pytest.fixture
def notifying(
    database_url: str, make_runtime: Callable[..., Runtime], smtp: SmtpServer
) -> Iterator[tuple[Runtime, TestClient]]:
    runtime = make_runtime(database_url, mail=mail_settings(smtp.port),
                           alerts={"webhook_allowed_networks": ["127.0.0.0/8"],
                                   "webhook_timeout_seconds": 1})  # fmt: skip
    give_emails(runtime, {"operator": "vanhanh@ioc.dongnai.gov.vn",
                          "commune": "locthanh@dongnai.gov.vn",
                          "commune2": "longthanh@dongnai.gov.vn"})  # fmt: skip
    subscribe(runtime.sessions, *notify_subscriptions(runtime))
    with TestClient(create_app(runtime=runtime)) as client:
        yield runtime, client


def notify(runtime: Runtime) -> None:
    (subscription,) = notify_subscriptions(runtime)
    deliver(runtime.sessions, subscription)


def test_mail_goes_to_those_in_scope_who_want_it(
    notifying: tuple[Runtime, TestClient], smtp: SmtpServer
) -> None:
    runtime, client = notifying
    operator, commune = token_for(client, "operator"), token_for(client, "commune")
    # The commune officer wants warnings too, but not at night; the operator only critical ones.
    client.put("/api/v1/alerts-preferences", headers=commune,
               json={"severities": ["critical", "major", "warning"], "quiet_start": "00:00",
                     "quiet_end": "23:59"})  # fmt: skip
    client.put("/api/v1/alerts-preferences", headers=operator, json={"severities": ["critical"]})
    for severity in ("warning", "critical"):
        made = client.post("/api/v1/alerts", headers=operator,
                           json={"title": f"Ngập sâu đường ĐT769 ({severity})",
                                 "severity": severity, "unit_code": LOC_THANH})  # fmt: skip
        assert made.status_code == 201
    notify(runtime)
    notify(runtime)  # again: nothing queued twice
    assert send_due(runtime) == (2, 0)
    got = sorted((m.rcpt_to[0], m.parsed()["Subject"]) for m in smtp.messages)
    # The warning: the commune officer is in quiet hours, the operator wants only critical.
    # The critical one: both (quiet hours do not hold it back); Long Thành's officer: not theirs.
    subject = "[KHẨN CẤP] Ngập sâu đường ĐT769 (critical)"
    assert got == [("locthanh@dongnai.gov.vn", subject), ("vanhanh@ioc.dongnai.gov.vn", subject)]
    assert send_due(runtime) == (0, 0)
    bad = client.put("/api/v1/alerts-preferences", headers=operator,
                     json={"quiet_start": "25:00", "quiet_end": "06:00"})  # fmt: skip
    assert bad.status_code == 422


def test_webhooks_are_signed_and_a_bad_receiver_holds_up_nobody(
    notifying: tuple[Runtime, TestClient], receiver: Receiver
) -> None:
    runtime, client = notifying
    operator = token_for(client, "operator")
    secrets = {}
    for name in ("ok", "hang", "broken"):
        made = client.post("/api/v1/alert-webhooks", headers=operator,
                           json={"name": name, "url": f"{receiver.url}/{name}"})  # fmt: skip
        assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
        secrets[name] = made.json()["secret"]
    listed = client.get("/api/v1/alert-webhooks", headers=operator).json()
    assert all(hook["secret"] is None for hook in listed)  # shown once
    alert = {"title": "Vỡ đê bao", "severity": "critical", "unit_code": LOC_THANH}
    client.post("/api/v1/alerts", headers=operator, json=alert)
    notify(runtime)
    started = time.monotonic()
    sent, failed = send_due(runtime)
    took = time.monotonic() - started
    # Two e-mails (operator, Lộc Thạnh) and /ok delivered; /hang timed out, /broken said 500.
    assert (sent, failed) == (3, 2)
    assert took < 5  # in parallel, each with its own timeout (1 s)
    _, headers, body = next(r for r in receiver.received if r[0] == "/ok")
    timestamp, signature = (
        part.split("=", 1)[1] for part in headers["X-DieuHanh-Signature"].split(",")
    )
    expected = hmac.new(secrets["ok"].encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert signature == expected.hexdigest()
    assert headers["X-DieuHanh-Event"] == "alert.raised"
    with runtime.sessions() as session:
        waiting = session.scalars(
            select(AlertDelivery).where(AlertDelivery.status == "pending")
        ).all()
        assert len(waiting) == 2
        assert all(d.attempts == 1 and d.next_at > utcnow() for d in waiting)
        assert any("HTTP 500" in (d.last_error or "") for d in waiting)
    receiver.release.set()  # the hanging one recovers
    assert send_due(runtime, utcnow() + timedelta(seconds=31)) == (1, 1)
    retried = [r for r in receiver.received if r[0] == "/hang"]
    assert retried[0][1]["X-DieuHanh-Delivery"] == retried[-1][1]["X-DieuHanh-Delivery"]
