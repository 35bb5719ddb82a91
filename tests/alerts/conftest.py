"""What the alerts tests share: camera events published for real, and the alerts subscriber
delivered the way the dispatcher does it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from dieuhanh.alerts.models import AlertRule
from dieuhanh.alerts.subscriber import subscriptions
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.events import Outcome, publish
from dieuhanh.core.runtime import Runtime
from tests.conftest import LOC_THANH
from tests.core.kit import deliver, subscribe


def camera_event(state: str, camera_id: int = 7, unit: str = LOC_THANH) -> dict[str, Any]:
    return {"camera_id": camera_id, "name": f"Cổng UBND số {camera_id}", "unit_code": unit,
            "state": state, "previous_state": "live" if state == "dead" else "dead",
            "reason": "timeout" if state == "dead" else None, "detail": None,
            "at": utcnow().isoformat()}  # fmt: skip


def publish_camera(
    runtime: Runtime, *states: str, camera_id: int = 7, unit: str = LOC_THANH
) -> None:
    with runtime.sessions() as session:
        for state in states:
            publish(session, "camera.state_changed", camera_event(state, camera_id, unit))
        session.commit()


def only_rules(runtime: Runtime, *codes: str) -> None:
    """Switch every rule off but these."""
    with runtime.sessions() as session:
        for rule in session.scalars(select(AlertRule)):
            rule.enabled = rule.code in codes
        session.commit()


@pytest.fixture
def deliver_alerts(runtime: Runtime) -> Callable[..., Outcome]:
    """Deliver the ``alerts.rules`` subscriber up to now (built afresh each call, as after a
    restart: its cursor is in the database)."""
    subscribe(runtime.sessions, *subscriptions(runtime))

    def run(now: datetime | None = None) -> Outcome:
        (subscription,) = subscriptions(runtime)
        return deliver(runtime.sessions, subscription, now)

    return run
