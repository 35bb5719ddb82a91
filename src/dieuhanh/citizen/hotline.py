"""The 1022 hotline's own case system, through the data hub: a source (the demo's
``hotline_1022``) keeps the cases as records of a dataset; every page it stores is published
as ``dataset.records_changed``, and this subscriber files a report for each new case — at the
unit the hub matched, its category suggested from its text, received when the case says — with
the case number as the report's ``external_id``, so a case seen again is not filed twice. The
two capabilities share nothing but the topic."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.citizen.classifier import suggest
from dieuhanh.citizen.models import Channel, CitizenReport
from dieuhanh.citizen.service import Intake, file_report
from dieuhanh.core.db.actor import Actor, set_actor
from dieuhanh.core.errors import DieuhanhError
from dieuhanh.core.events import EventRecord, Subscription
from dieuhanh.core.runtime import Runtime

log = logging.getLogger(__name__)
SUBSCRIBER = "citizen.hotline_cases"
TOPIC = "dataset.records_changed"  # declared by the data hub


def subscriptions(runtime: Runtime) -> list[Subscription]:
    def handle(session: Session, event: EventRecord) -> None:
        file_cases(session, runtime, event.payload)

    return [Subscription(SUBSCRIBER, (TOPIC,), handle, start="earliest")]


def file_cases(session: Session, runtime: Runtime, payload: dict[str, Any]) -> int:
    """File the new cases of one stored page; how many were filed."""
    settings = runtime.settings.citizen
    if payload.get("dataset") != settings.hotline_dataset:
        return 0
    set_actor(session, Actor(name=f"datahub:{payload.get('source')}", via="system"))
    keys = [str(record["key"]) for record in payload.get("records", [])]
    known = set(
        session.scalars(
            select(CitizenReport.external_id).where(
                CitizenReport.channel == Channel.IMPORT, CitizenReport.external_id.in_(keys)
            )
        )
    )
    filed = 0
    for record in payload.get("records", []):
        key, data = str(record["key"])[:60], record.get("data") or {}
        if key in known or not record.get("unit"):
            continue
        text = " ".join(str(data[f]) for f in settings.hotline_text_fields if data.get(f))
        suggestion = suggest(text)
        intake = Intake(
            category=suggestion[0] if suggestion else "other", description=text or key,
            unit_code=record["unit"], external_id=key,
        )  # fmt: skip
        try:
            with session.begin_nested():
                file_report(session, runtime.settings, intake, Channel.IMPORT,
                            now=_moment(data.get(settings.hotline_time_field)),
                            suggestion=suggestion)  # fmt: skip
        except DieuhanhError as exc:  # one case the product cannot place does not stop the rest
            log.warning("hotline case %s not filed: %s", key, exc.message)
            continue
        known.add(key)
        filed += 1
    return filed


def _moment(text: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
