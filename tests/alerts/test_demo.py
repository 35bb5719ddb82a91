"""The demo's alerts part: a directive to three communes at different steps, a manual alert and
a CAP exercise message valid against the schema; a second start adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from dieuhanh.alerts import cap, demo
from dieuhanh.alerts.models import Alert, CapMessage, Directive, DirectiveRecipient
from dieuhanh.core.runtime import Runtime


def test_the_demo_sets_alerts_up_once(runtime: Runtime) -> None:
    for _ in range(2):
        part = demo.start(runtime)
        assert "/directives" in part.banner[0]
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Directive)) == 1
        states = sorted(session.scalars(select(DirectiveRecipient.state)))
        assert states == ["done", "in_progress", "sent"]
        assert session.scalar(select(func.count()).select_from(Alert)) == 1
        (message,) = session.scalars(select(CapMessage))
        cap.check(message.xml)
        assert "<status>Exercise</status>" in message.xml
