"""The 1022 hotline's own case system, through the data hub: a source (the demo's
``hotline_1022``) keeps the cases as records of a dataset; every page it stores — its new and
changed cases — is published as ``dataset.records_changed``, and this subscriber follows them.

A new case is filed as a report — at the unit the hub matched, its category suggested from its
text, received when the case says, the case number as the report's ``external_id`` so a case
seen again is not filed twice — and brought to the step its hotline state maps to. A known case
that comes again further along moves its report forward (``hotline_states``): the hotline's
system is the record of its cases' handling, so a case it has answered is not late in the IOC.
The two capabilities share nothing but the topic."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.citizen.classifier import suggest
from dieuhanh.citizen.hotline_states import HotlineStates, advance
from dieuhanh.citizen.models import Channel, CitizenReport
from dieuhanh.citizen.service import Intake, file_report
from dieuhanh.core.access import Principal
from dieuhanh.core.config import Settings
from dieuhanh.core.db.actor import Actor, set_actor
from dieuhanh.core.errors import DieuhanhError
from dieuhanh.core.events import EventRecord, Subscription
from dieuhanh.core.runtime import Runtime

log = logging.getLogger(__name__)
SUBSCRIBER = "citizen.hotline_cases"
TOPIC = "dataset.records_changed"  # declared by the data hub
KEY_LENGTH = 60  # CitizenReport.external_id
ANSWERED = "Tổng đài 1022 đã trả lời công dân (phản ánh {key})."


@dataclass
class Synced:
    filed: int = 0
    moved: int = 0  # reports brought forward to the hotline's state (new ones included)


def subscriptions(runtime: Runtime) -> list[Subscription]:
    states = HotlineStates(runtime.settings.citizen.hotline_states)

    def handle(session: Session, event: EventRecord) -> None:
        sync_cases(session, runtime.settings, event.payload, states)

    return [Subscription(SUBSCRIBER, (TOPIC,), handle, start="earliest")]


def sync_cases(
    session: Session, settings: Settings, payload: dict[str, Any], states: HotlineStates
) -> Synced:
    """File the new cases of one stored page and follow the states of all of them."""
    if payload.get("dataset") != settings.citizen.hotline_dataset:
        return Synced()
    actor = f"datahub:{payload.get('source')}"
    set_actor(session, Actor(name=actor, via="system"))
    principal = Principal.system(actor, settings.province_code)
    records = payload.get("records", [])
    known = _known(session, [str(record["key"])[:KEY_LENGTH] for record in records])
    synced = Synced()
    for record in records:
        key, data = str(record["key"])[:KEY_LENGTH], record.get("data") or {}
        report = known.get(key)
        if report is None:
            report = _file(session, settings, key, record)
            if report is None:
                continue
            known[key] = report
            synced.filed += 1
        if _follow(session, settings, principal, report, key, data, states):
            synced.moved += 1
    return synced


def _known(session: Session, keys: list[str]) -> dict[str, CitizenReport]:
    reports = session.scalars(
        select(CitizenReport).where(
            CitizenReport.channel == Channel.IMPORT, CitizenReport.external_id.in_(keys)
        )
    )
    return {report.external_id or "": report for report in reports}


def _file(
    session: Session, settings: Settings, key: str, record: dict[str, Any]
) -> CitizenReport | None:
    data, citizen = record.get("data") or {}, settings.citizen
    if not record.get("unit"):
        return None
    text = " ".join(str(data[f]) for f in citizen.hotline_text_fields if data.get(f))
    suggestion = suggest(text)
    intake = Intake(
        category=suggestion[0] if suggestion else "other", description=text or key,
        unit_code=record["unit"], external_id=key,
    )  # fmt: skip
    try:
        with session.begin_nested():
            return file_report(session, settings, intake, Channel.IMPORT,
                               now=_moment(data.get(citizen.hotline_time_field)),
                               suggestion=suggestion)  # fmt: skip
    except DieuhanhError as exc:  # one case the product cannot place does not stop the rest
        log.warning("hotline case %s not filed: %s", key, exc.message)
        return None


def _follow(
    session: Session,
    settings: Settings,
    principal: Principal,
    report: CitizenReport,
    key: str,
    data: dict[str, Any],
    states: HotlineStates,
) -> bool:
    """Bring the report to the step the case's state maps to; whether it moved."""
    citizen = settings.citizen
    word = data.get(citizen.hotline_state_field)
    target = states.target(word)
    if target is None:
        return False
    answer = str(data.get(citizen.hotline_answer_field) or "").strip() or ANSWERED.format(key=key)
    try:
        with session.begin_nested():
            taken = advance(session, settings, principal, report, str(word), target,
                            at=_moment(data.get(citizen.hotline_state_time_field)),
                            answer=answer)  # fmt: skip
    except DieuhanhError as exc:  # the report stays where it was; the others go on
        log.warning("hotline case %s: report %s not moved to %s: %s", key, report.code,
                    target, exc.message)  # fmt: skip
        return False
    return bool(taken)


def _moment(text: Any) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
