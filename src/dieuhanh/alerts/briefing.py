"""The daily briefing (bản tin điều hành): for one unit, what changed in the 24 hours up to 7:00
this morning — alerts raised and still open, directive steps overdue or escalated, indicators
that changed band, sources gone stale, citizen reports received and overdue. Every line comes
from the product's own records (the alerts, the directives, the event log), each with where to
look; nothing is summarised by guesswork."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.alerts.models import (
    SEVERITY_RANK,
    Alert,
    AlertState,
    Directive,
    DirectiveRecipient,
    DirectiveState,
    Severity,
)
from dieuhanh.alerts.service import known_unit
from dieuhanh.core.access import Principal, Scope, authorize
from dieuhanh.core.events import EventRecord
from dieuhanh.units.models import Unit
from dieuhanh.units.service import subtree_ids

MORNING = time(7, 0)
MAX_LINES = 50  # per section; the counts stay whole


def window(day: date, zone: str) -> tuple[datetime, datetime]:
    """The 24 hours up to 7:00 (province time) on ``day``."""
    end = datetime.combine(day, MORNING, tzinfo=ZoneInfo(zone))
    return end - timedelta(hours=24), end


def briefing(
    session: Session, principal: Principal, unit_code: str | None, day: date, zone: str
) -> dict[str, Any]:
    unit = known_unit(session, unit_code or principal.unit_code, "unit")
    authorize(principal, "read", unit.id, unit.name)
    scope = Scope(subtree_ids(session, unit))
    start, end = window(day, zone)
    alerts = list(session.scalars(
        select(Alert).where(Alert.opened_at >= start, Alert.opened_at < end,
                            scope.where(Alert.unit_id)).order_by(Alert.opened_at)
    ))  # fmt: skip
    still_open = list(session.scalars(
        select(Alert).where(Alert.state != AlertState.RESOLVED, scope.where(Alert.unit_id))
    ))  # fmt: skip
    late = session.execute(
        select(Directive, DirectiveRecipient, Unit)
        .join(DirectiveRecipient, DirectiveRecipient.directive_id == Directive.id)
        .join(Unit, Unit.id == DirectiveRecipient.unit_id)
        .where(DirectiveRecipient.state != DirectiveState.DONE,
               DirectiveRecipient.overdue_at.is_not(None), scope.where(DirectiveRecipient.unit_id))
        .order_by(Directive.deadline)
    ).all()  # fmt: skip
    events = session.execute(
        select(EventRecord.topic, EventRecord.payload).where(
            EventRecord.at >= start, EventRecord.at < end,
            EventRecord.topic.in_(["indicator.band_changed", "source.state_changed",
                                   "citizen_report.created", "citizen_report.overdue",
                                   "citizen_report.escalated"]),
            scope.where(EventRecord.unit_id),
        ).order_by(EventRecord.id)
    ).all()  # fmt: skip
    reports = Counter(topic.rsplit(".", 1)[1] for topic, _ in events if topic.startswith("citizen"))
    moved = [p for topic, p in events if topic == "indicator.band_changed"]
    stale = [p for topic, p in events if topic == "source.state_changed" and p["state"] != "live"]
    by_severity = Counter(alert.severity for alert in alerts)
    return {
        "unit": {"code": unit.code, "name": unit.name},
        "start": start, "end": end,
        "alerts": {
            "raised": len(alerts),
            "by_severity": {s.value: by_severity.get(s.value, 0) for s in Severity},
            "still_open": len(still_open),
            "lines": [{"id": a.id, "title": a.title, "severity": a.severity, "state": a.state,
                       "opened_at": a.opened_at, "link": "/alerts"}
                      for a in sorted(alerts, key=lambda a: SEVERITY_RANK[Severity(a.severity)])
                      ][:MAX_LINES],
        },
        "directives": {
            "late": len(late),
            "lines": [{"code": d.code, "title": d.title, "unit": u.name, "step": r.overdue_step,
                       "escalated": r.escalated_at is not None, "deadline": d.deadline,
                       "link": "/directives"} for d, r, u in late][:MAX_LINES],
        },
        "indicators": {
            "moved": len(moved),
            "lines": [{"indicator": p["indicator_name"], "unit": p["unit_name"],
                       "period": p["period"], "value": p["value"], "color": p["color"],
                       "previous_color": p["previous_color"],
                       "link": "/indicators/dashboard"} for p in moved][:MAX_LINES],
        },
        "sources": {
            "stale": len(stale),
            "lines": [{"source": p["name"], "state": p["state"], "reason": p["reason"],
                       "link": "/datahub"} for p in stale][:MAX_LINES],
        },
        "reports": {"received": reports["created"], "overdue": reports["overdue"],
                    "escalated": reports["escalated"], "link": "/citizen"},
    }  # fmt: skip
