"""Alerts in `dieuhanh demo`: the first time, a directive from the shipped scenario on overdue
dossiers to three communes (one done, one under way, one not yet acknowledged), a manual alert,
and a CAP exercise message for heavy rain — so the board, the alerts page and the feed have
something at once. Live alerts then come from the simulated cameras and the citizen reports."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from dieuhanh.alerts import cap, scenarios
from dieuhanh.alerts.directives import Step, take_step
from dieuhanh.alerts.models import Directive, Severity
from dieuhanh.alerts.service import raise_manual
from dieuhanh.core.capability import DemoPart
from dieuhanh.core.db.actor import Actor, set_actor
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.runtime import Runtime
from dieuhanh.units.service import children, get_unit
from dieuhanh.units.types import UnitType

BANNER = "Cảnh báo: /alerts · Chỉ đạo: /directives · Bản tin CAP: /api/v1/cap/feed.xml"


def start(runtime: Runtime) -> DemoPart:
    settings = runtime.settings
    with runtime.sessions() as session:
        if session.scalar(select(func.count()).select_from(Directive)):
            return DemoPart(banner=[BANNER])
        set_actor(session, Actor(name="demo", via="system"))
        province = get_unit(session, settings.province_code)
        communes = children(session, province, [UnitType.COMMUNE])[:3]
        now = utcnow()
        principal = scenarios.province_principal(session, settings, "demo")
        directive = scenarios.run(session, settings, principal,
                                  scenarios.find("dossiers_overdue"),
                                  [unit.code for unit in communes], now)  # fmt: skip
        first, second = communes[0].code, communes[1].code
        steps = [
            (first, Step("acknowledge")),
            (first, Step("assign", assignee="Tổ TTHC")),
            (first, Step("report", text="Đã xử lý dứt điểm 7 hồ sơ trễ hạn.")),
            (second, Step("acknowledge")),
            (second, Step("progress", text="Đã rà soát 4/9 hồ sơ.", percent=45)),
        ]
        for code, step in steps:
            take_step(session, principal, directive, code, step, now)
        raise_manual(session, principal, title="Diễn tập: ngập cục bộ đường Đồng Khởi",
                     severity=Severity.MINOR, unit_code=communes[2].code,
                     detail="Cảnh báo mẫu của bản demo.", now=now)  # fmt: skip
        cap.publish_emergency(
            session,
            cap.EmergencyIn(
                headline="Diễn tập: cảnh báo mưa lớn, nguy cơ ngập úng", event="Mưa lớn",
                description="Bản tin diễn tập của bản demo DieuHanh.", category="Met",
                urgency="Expected", severity="Moderate", certainty="Likely",
                unit_codes=[unit.code for unit in communes], status="Exercise",
                expires=now + timedelta(days=1),
            ),
            sender=settings.alerts.cap_sender, sender_name="DieuHanh demo",
            zone=settings.timezone, by="demo", now=now,
        )  # fmt: skip
        session.commit()
    return DemoPart(banner=[BANNER])
