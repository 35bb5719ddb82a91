"""The 1022 hotline's case system keeps the record of its cases' handling: its state words are
mapped to the report's steps (``citizen.hotline_states``), and a report is brought forward to
the mapped step with the same ``take_step`` a person uses — audited, published, by the same
rules — never backwards, and never over what the IOC did since (an operator who moved a report
further, a citizen who reopened it, a refusal)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dieuhanh.citizen.models import CitizenReport, ReportEvent, Status
from dieuhanh.citizen.service import MAX_NOTE, Step, take_step
from dieuhanh.core.access import Principal
from dieuhanh.core.config import Settings
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.text import fold

log = logging.getLogger(__name__)

# How far along its handling a report is. The hotline moves a report only up this scale; a
# status not on it (closed, refused, duplicate, reopened) is the IOC's decision after the
# hotline's part, which a late or repeated word from the hotline must not undo.
PROGRESS: dict[str, int] = {
    Status.NEW: 0,
    Status.ACCEPTED: 1,
    Status.ASSIGNED: 1,
    Status.IN_PROGRESS: 2,
    Status.RESOLVED: 3,
}


class HotlineStates:
    """The hotline's state words → the report's steps, matched without diacritics or case.
    A word not mapped is logged once per process, not once per case and page."""

    def __init__(self, words: Mapping[str, str]) -> None:
        self._targets = {fold(word): Status(step) for word, step in words.items()}
        self._unknown: set[str] = set()

    def target(self, word: object) -> Status | None:
        key = fold(str(word)) if word is not None else ""
        if not key:
            return None
        target = self._targets.get(key)
        if target is None and key not in self._unknown:
            self._unknown.add(key)
            log.warning("hotline state '%s' is not in citizen.hotline_states: its cases stay "
                        "as they are", str(word)[:60])  # fmt: skip
        return target


def actions_towards(status: str, target: Status) -> list[str]:
    """The steps that bring a report from ``status`` to ``target``; none when it is there, past
    it, or off the scale."""
    if status not in PROGRESS or PROGRESS[target] <= PROGRESS[status]:
        return []
    actions = ["accept"] if status == Status.NEW else []
    if target == Status.IN_PROGRESS:
        actions.append("start")
    elif target == Status.RESOLVED:
        actions.append("resolve")
    return actions


def advance(
    session: Session,
    settings: Settings,
    principal: Principal,
    report: CitizenReport,
    word: str,
    target: Status,
    *,
    at: datetime | None,
    answer: str,
) -> list[str]:
    """Take the steps towards ``target`` (dated ``at``, kept after the report's last step and
    not in the future); the steps taken. The caller commits."""
    actions = actions_towards(report.status, target)
    moment = _step_time(session, report, at)
    for action in actions:
        if action == "resolve":
            step = Step(action=action, note=answer[:MAX_NOTE], public=True)
        else:  # why the system took it, for staff reading the history
            step = Step(action=action, note=f"Theo Tổng đài 1022: {word}"[:MAX_NOTE])
        take_step(session, settings, principal, report, step, now=moment)
    return actions


def _step_time(session: Session, report: CitizenReport, at: datetime | None) -> datetime:
    now = utcnow()
    last = session.scalar(
        select(func.max(ReportEvent.at)).where(ReportEvent.report_id == report.id)
    )
    earliest = max(last or report.received_at, report.received_at)
    return min(max(at or now, earliest), max(now, earliest))
