"""Notifications of alerts: e-mail to the people who want them, signed webhooks for chat relays.

Two steps, so that no receiver can hold up another or lose a notification:

1. The subscriber ``alerts.notify`` reads ``alert.raised`` / ``alert.resolved`` and queues one
   ``alert_deliveries`` row per recipient in the same transaction as its cursor (a restart
   neither loses nor doubles one: the row is unique per event × channel × target).
2. The ``alerts.deliveries`` job sends what is due, a few at a time in parallel, each with its
   own timeout; a failure is tried again with a doubling wait (30 s … 1 h, 8 attempts).

Who gets an e-mail: active users with an address whose unit scope covers the alert's unit, whose
preferences include its severity (default: critical and major) and who are not in their quiet
hours (critical alerts excepted), plus anyone the rule names in ``notify``. A reopened
(flapping) alert sends nothing new. Webhooks get raised and resolved alerts of their severities.

A webhook POST carries ``X-DieuHanh-Event``, ``X-DieuHanh-Delivery`` (the same on a retry: the
receiver can drop duplicates) and ``X-DieuHanh-Signature: t=<unix time>,v1=<hex>``, where v1 is
HMAC-SHA256 of ``"<t>.<body>"`` with the webhook's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from datetime import time as clock
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dieuhanh.alerts import topics
from dieuhanh.alerts.models import (
    Alert,
    AlertDelivery,
    AlertPreference,
    AlertRule,
    AlertWebhook,
    Severity,
)
from dieuhanh.auth.models import User
from dieuhanh.auth.service import principal_for
from dieuhanh.core.config import Settings
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.events import EventRecord, Subscription
from dieuhanh.core.mail import MailError, connect, new_message
from dieuhanh.core.network import NetworkPolicy, NetworkRefused, checked_address, post
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.secrets import Credentials

log = logging.getLogger(__name__)
SUBSCRIBER = "alerts.notify"
DEFAULT_SEVERITIES = [Severity.CRITICAL.value, Severity.MAJOR.value]
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
PARALLEL = 4
SEVERITY_WORDS = {"critical": "KHẨN CẤP", "major": "NGHIÊM TRỌNG", "minor": "NHẸ",
                  "warning": "CẢNH GIÁC", "info": "THÔNG TIN"}  # fmt: skip
BATCH = 50


# --- 1. queue ---------------------------------------------------------------------------------


def subscriptions(runtime: Runtime) -> list[Subscription]:
    def handle(session: Session, event: EventRecord) -> None:
        queue(session, runtime.settings, event)

    return [Subscription(SUBSCRIBER, (topics.RAISED, topics.RESOLVED), handle)]


def queue(session: Session, settings: Settings, event: EventRecord) -> int:
    """The deliveries one alert event calls for; how many were queued."""
    payload = event.payload
    if payload.get("action") == "reopened":
        return 0  # flapping: the people who should know were told the first time
    alert = session.get(Alert, payload["id"])
    if alert is None:
        return 0
    targets: list[tuple[str, str]] = []
    if event.topic == topics.RAISED:
        now_local = event.at.astimezone(settings.zone).time()
        targets += [("email", address) for address in _mail_recipients(session, alert, now_local)]
    for hook in session.scalars(select(AlertWebhook).where(AlertWebhook.active)):
        if alert.severity in (hook.severities or DEFAULT_SEVERITIES):
            targets.append(("webhook", str(hook.id)))
    queued = 0
    for channel, target in targets:
        try:
            delivery = AlertDelivery(
                event_id=event.id, alert_id=alert.id, channel=channel, target=target,
                payload={"topic": event.topic, **payload}, status="pending", attempts=0,
                next_at=event.at,
            )  # fmt: skip
            with session.begin_nested():
                session.add(delivery)
            queued += 1
        except IntegrityError:
            pass  # queued already (the event handled before a crash): once is enough
    return queued


def _mail_recipients(session: Session, alert: Alert, now_local: clock) -> list[str]:
    named: set[str] = set()
    if alert.rule_id is not None:
        rule = session.get(AlertRule, alert.rule_id)
        named = set((rule.definition or {}).get("notify", [])) if rule is not None else set()
    preferences = {p.user_id: p for p in session.scalars(select(AlertPreference))}
    critical = alert.severity == Severity.CRITICAL
    addresses: list[str] = []
    for user in session.scalars(select(User).where(User.is_active, User.email.is_not(None))):
        principal = principal_for(session, user, via="notification")
        if not principal.read_scope.allows(alert.unit_id):
            continue
        preference = preferences.get(user.id)
        wanted = user.username in named or (
            (preference is None or preference.email)
            and alert.severity in (preference.severities if preference else DEFAULT_SEVERITIES)
        )
        quiet = preference is not None and _within(now_local, preference)
        if wanted and (critical or not quiet) and user.email:
            addresses.append(user.email)
    return sorted(set(addresses))


def _within(moment: clock, preference: AlertPreference) -> bool:
    if not preference.quiet_start or not preference.quiet_end:
        return False
    start, end = (
        clock.fromisoformat(preference.quiet_start),
        clock.fromisoformat(preference.quiet_end),
    )
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end  # across midnight: 22:00-06:00


# --- 2. send ----------------------------------------------------------------------------------


def send_due(runtime: Runtime, now: datetime | None = None) -> tuple[int, int]:
    """Send the deliveries that are due; (sent, failed this time)."""
    now = now or utcnow()
    with runtime.sessions() as session:
        due = session.scalars(
            select(AlertDelivery)
            .where(AlertDelivery.status == "pending", AlertDelivery.next_at <= now)
            .order_by(AlertDelivery.id)
            .limit(BATCH)
        ).all()
        jobs = [(d.id, d.channel, d.target, d.payload, d.event_id) for d in due]
        hooks = {
            str(h.id): (h.url, _secret(runtime, h))
            for h in session.scalars(select(AlertWebhook).where(AlertWebhook.active))
        }
    if not jobs:
        return 0, 0
    with ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="alert-delivery") as pool:
        results = list(pool.map(lambda job: _attempt(runtime, hooks, *job), jobs))
    sent = failed = 0
    with runtime.sessions() as session:
        for (delivery_id, *_), error in zip(jobs, results, strict=True):
            delivery = session.get(AlertDelivery, delivery_id)
            if delivery is None:
                continue
            delivery.attempts += 1
            if error is None:
                delivery.status, delivery.sent_at, delivery.last_error = "sent", utcnow(), None
                sent += 1
                continue
            failed += 1
            delivery.last_error = error[:2000]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = "failed"
                log.warning("alert delivery %s given up: %s", delivery_id, error)
            else:
                wait = min(FIRST_RETRY * 2 ** (delivery.attempts - 1), LONGEST_RETRY)
                delivery.next_at = now + wait
        session.commit()
    return sent, failed


def _secret(runtime: Runtime, hook: AlertWebhook) -> str:
    found = runtime.credentials.decrypt(hook.secret_encrypted)
    return found.password if found else ""


def _attempt(
    runtime: Runtime, hooks: dict[str, tuple[str, str]], delivery_id: int, channel: str,
    target: str, payload: dict[str, Any], event_id: int,
) -> str | None:  # fmt: skip
    """None when delivered, else why not (for the retry and the person reading it)."""
    try:
        if channel == "email":
            _mail(runtime.settings, target, payload)
        else:
            if target not in hooks:
                return "the webhook was removed or switched off"
            url, secret = hooks[target]
            post_webhook(runtime.settings, url, secret, payload, delivery_id)
    except (MailError, requests.RequestException, NetworkRefused, WebhookRefused) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _mail(settings: Settings, address: str, payload: dict[str, Any]) -> None:
    if not settings.mail.smtp_host:
        raise MailError("mail.smtp_host is empty: no e-mail can be sent", fatal=True)
    severity = SEVERITY_WORDS.get(payload["severity"], "")
    where = payload.get("unit_name") or "Toàn tỉnh"
    link = f"{settings.alerts.cap_public_url.rstrip('/')}/alerts"
    body = (f"{payload['title']}\n\nMức độ: {severity}\nĐơn vị: {where}\n"
            f"Thời điểm: {payload['at']}\n\nXem và tiếp nhận: {link}\n")  # fmt: skip
    message = new_message(settings.mail, [address], f"[{severity}] {payload['title']}", body)
    with connect(settings.mail) as connection:
        connection.send(message)


class WebhookRefused(Exception):
    pass


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def post_webhook(
    settings: Settings, url: str, secret: str, payload: dict[str, Any], delivery_id: int
) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(f"{url[:100]} is not an http(s) URL")
    policy = NetworkPolicy.of(settings.alerts.webhook_allowed_networks,
                              setting="alerts.webhook_allowed_networks")  # fmt: skip
    checked_address(parts.hostname, policy, parts.port)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(time.time())
    status, _ = post(
        url, data=body, timeout=settings.alerts.webhook_timeout_seconds, allow_redirects=False,
        headers={"Content-Type": "application/json; charset=utf-8",
                 "User-Agent": "DieuHanh-alerts", "X-DieuHanh-Event": str(payload.get("topic")),
                 "X-DieuHanh-Delivery": str(delivery_id),
                 "X-DieuHanh-Signature": sign(secret, timestamp, body)},
    )  # fmt: skip
    if status >= 300:
        raise WebhookRefused(f"the receiver answered HTTP {status}")


def new_webhook(
    session: Session, runtime: Runtime, *, name: str, url: str, severities: list[str], by: str
) -> tuple[AlertWebhook, str]:
    """A webhook and its secret (shown once; stored encrypted)."""
    secret = "whsec_" + secrets.token_urlsafe(24)
    encrypted = runtime.credentials.encrypt(Credentials("webhook", secret)) or ""
    hook = AlertWebhook(name=name, url=url, secret_encrypted=encrypted, severities=severities,
                        active=True, created_by=by)  # fmt: skip
    session.add(hook)
    session.flush()
    return hook, secret
