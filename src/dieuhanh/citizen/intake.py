"""What every channel does with a new report: the category suggestion, then filing; and the limit
on how many reports one sender may post in an hour (a flood from one address is refused with
429, what was filed before stays)."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import deque

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.citizen.classifier import retrain, suggest
from dieuhanh.citizen.models import Channel, CitizenReport, ReportCategory, Status
from dieuhanh.citizen.service import Intake, file_report
from dieuhanh.core.errors import TooManyRequests
from dieuhanh.core.http.deps import client_ip
from dieuhanh.core.runtime import Runtime

log = logging.getLogger(__name__)
WINDOW_SECONDS = 3600.0
MAX_SENDERS = 10_000  # the oldest forgotten past this: memory stays bounded under a flood


def classify_and_file(
    session: Session, runtime: Runtime, intake: Intake, channel: Channel
) -> CitizenReport:
    refresh_classifier(runtime)
    suggestion = suggest(intake.description)
    return file_report(session, runtime.settings, intake, channel, suggestion=suggestion)


RETRAIN_EVERY_SECONDS = 3600.0
MAX_CONFIRMED = 2000
_RETRAINED = {"at": float("-inf")}
_RETRAINED_LOCK = threading.Lock()


def refresh_classifier(runtime: Runtime, force: bool = False) -> threading.Thread | None:
    """At most once an hour per process, start training again in the background (a report
    never waits for it; the old model answers until the new one is ready). The thread, or None
    when the model was fresh enough."""
    now = time.monotonic()
    with _RETRAINED_LOCK:
        if not force and now - _RETRAINED["at"] < RETRAIN_EVERY_SECONDS:
            return None
        _RETRAINED["at"] = now

    def train() -> None:
        try:
            with runtime.sessions() as session:
                confirmed = confirmed_categories(session)
            retrain(confirmed)  # with the database connection given back
        except Exception:  # the old model stays; tried again in an hour
            log.exception("retraining the report classifier failed")

    thread = threading.Thread(target=train, name="citizen-classifier", daemon=True)
    thread.start()
    return thread


def confirmed_categories(session: Session) -> list[tuple[str, str]]:
    """(description, category) of the latest reports whose category staff confirmed: a report
    past "new", not refused nor a duplicate, carries the category its unit accepted or corrected
    with the ``categorize`` step."""
    rows = session.execute(
        select(CitizenReport.description, ReportCategory.code)
        .join(ReportCategory, ReportCategory.id == CitizenReport.category_id)
        .where(CitizenReport.status.not_in([Status.NEW, Status.REFUSED, Status.DUPLICATE]))
        .order_by(CitizenReport.id.desc())
        .limit(MAX_CONFIRMED)
    ).all()
    return [(text, code) for text, code in rows]


class _Windows:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[str, deque[float]] = {}


# Per runtime (a Runtime is a dataclass, compared by value: keyed by identity, dropped with it).
_WINDOWS: dict[int, _Windows] = {}


def _windows_of(runtime: Runtime) -> _Windows:
    found = _WINDOWS.get(id(runtime))
    if found is None:
        found = _WINDOWS[id(runtime)] = _Windows()
        weakref.finalize(runtime, _WINDOWS.pop, id(runtime), None)
    return found


def throttle(runtime: Runtime, request: Request, sender: str | None = None) -> None:
    """Count one post of ``sender`` (default: the client's address); past
    ``citizen.max_reports_per_hour`` in the last hour, TooManyRequests."""
    limit = runtime.settings.citizen.max_reports_per_hour
    key = sender or f"ip:{client_ip(request)}"
    windows = _windows_of(runtime)
    now = time.monotonic()
    with windows.lock:
        times = windows.seen.pop(key, deque())
        while times and now - times[0] > WINDOW_SECONDS:
            times.popleft()
        if len(times) >= limit:
            windows.seen[key] = times
            wait = int(WINDOW_SECONDS - (now - times[0])) + 1
            raise TooManyRequests(
                f"Too many reports from this sender in an hour (at most {limit}); try again in "
                f"{wait // 60 + 1} minutes.",
                retry_after=wait,
            )
        times.append(now)
        windows.seen[key] = times  # re-inserted: the dict keeps senders by last use
        while len(windows.seen) > MAX_SENDERS:
            windows.seen.pop(next(iter(windows.seen)))
