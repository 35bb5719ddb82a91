"""The demo's parts publish while they seed, before the background runs: every subscriber's
cursor is made first, so the subscribers work through what they published — each late sample
report raises its alert — where a cursor made afterwards would start past those events.

The seed's backlog is heavy (two years of figures: ``indicators.bands`` takes about a second per
``data_values.changed``); the dispatcher delivers it in slices (tests/core/test_event_backlog.py
shows the other writers of the file are not refused meanwhile)."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from dieuhanh.alerts.models import Alert, AlertState
from dieuhanh.capabilities import subscriptions
from dieuhanh.citizen import demo as citizen_demo
from dieuhanh.citizen.models import CitizenReport
from dieuhanh.core.events import EventRecord, run_dispatcher
from dieuhanh.core.events.cursors import EventSubscriber
from dieuhanh.core.runtime import Runtime
from dieuhanh.demo import subscribe_first
from dieuhanh.indicators import demo as indicator_demo
from tests.aio import run
from tests.core.kit import deliver

RESOLVED = ("resolved", "closed")


def open_report_alerts(runtime: Runtime) -> set[str]:
    with runtime.sessions() as session:
        return set(
            session.scalars(
                select(Alert.subject).where(
                    Alert.state == AlertState.OPEN, Alert.subject.like("report:%")
                )
            )
        )


def late_reports(runtime: Runtime) -> set[str]:
    with runtime.sessions() as session:
        found = session.scalars(
            select(CitizenReport.code).where(
                CitizenReport.overdue_at.is_not(None), CitizenReport.status.not_in(RESOLVED)
            )
        )
        return {f"report:{code}" for code in found}


def caught_up(runtime: Runtime) -> bool:
    with runtime.sessions() as session:
        newest = session.scalar(select(func.max(EventRecord.id)))
        lowest = session.scalar(select(func.min(EventSubscriber.last_event_id)))
        return lowest is not None and lowest >= (newest or 0)


def catch_up(runtime: Runtime, seconds: float) -> None:
    """Run every subscriber, as `dieuhanh demo` does, until none is behind (bounded)."""

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(run_dispatcher(runtime, subscriptions(runtime), stop))
        deadline = time.monotonic() + seconds
        try:
            while not await asyncio.to_thread(caught_up, runtime):
                assert time.monotonic() < deadline, f"still behind after {seconds:g} s"
                await asyncio.sleep(0.2)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=30)

    run(scenario(), timeout=seconds + 60)


def test_after_the_demo_seed_every_late_sample_report_has_its_alert(runtime: Runtime) -> None:
    subscribe_first(runtime)
    subscribe_first(runtime)  # a second start leaves the cursors where they are
    assert indicator_demo.ensure_values(runtime, today=runtime.today())  # the heavy backlog
    citizen_demo.start(runtime)
    catch_up(runtime, seconds=240)
    late = late_reports(runtime)
    assert len(late) > 10, "the sample has late reports"
    assert open_report_alerts(runtime) == late
    with runtime.sessions() as session:
        failing = session.scalars(
            select(EventSubscriber.name).where(
                (EventSubscriber.failures > 0) | EventSubscriber.parked_at.is_not(None)
            )
        ).all()
    assert failing == []


def test_without_the_cursors_first_the_late_sample_raises_nothing(runtime: Runtime) -> None:
    citizen_demo.start(runtime)  # published before any cursor exists
    (rules,) = [s for s in subscriptions(runtime) if s.name == "alerts.rules"]
    subscribe_first(runtime)
    deliver(runtime.sessions, rules)
    assert late_reports(runtime) and not open_report_alerts(runtime)
