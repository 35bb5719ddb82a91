"""The topics alerts publish (declared in the manifest): notifications, open pages and the
operations view follow them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from dieuhanh.alerts.models import Alert, AlertState, Severity
from dieuhanh.core.events import Topic

RAISED = "alert.raised"
CHANGED = "alert.changed"
RESOLVED = "alert.resolved"


class AlertEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int = Field(description="The alert's id (`GET /api/v1/alerts/{id}`).")
    rule: str | None = Field(description="The rule's code; null for a manual alert.")
    subject: str = Field(description="What it is about, e.g. `camera:12`.")
    severity: Severity
    state: AlertState
    title: str
    unit_code: str | None
    unit_name: str | None
    flapping: bool = Field(description="Raised again soon after it cleared (not a new one).")
    action: str = Field(description="raised, reopened, acknowledged, assigned, commented, "
                        "resolved.")  # fmt: skip
    by: str = Field(description="Who: a username, or `rule`.")
    at: datetime


def payload(
    alert: Alert, unit_code: str | None, unit_name: str | None, action: str, by: str,
    at: datetime, alert_id: int | None = None,
) -> AlertEvent:  # fmt: skip
    """``alert_id``: instead of ``alert.id`` (an alert not written yet, its id filled in later)."""
    return AlertEvent(
        id=alert.id if alert_id is None else alert_id, rule=alert.rule_code, subject=alert.subject,
        severity=Severity(alert.severity), state=AlertState(alert.state), title=alert.title,
        unit_code=unit_code, unit_name=unit_name, flapping=alert.flaps > 0, action=action, by=by,
        at=at,
    )  # fmt: skip


TOPICS = (
    Topic(RAISED, AlertEvent, "An alert was raised (by a rule or by hand), or came back "
          "(`action: reopened`, `flapping: true`)."),
    Topic(CHANGED, AlertEvent, "An alert was acknowledged, assigned or commented on."),
    Topic(RESOLVED, AlertEvent, "An alert was resolved: its condition cleared (`by: rule`) "
          "or a person resolved it."),
)  # fmt: skip
