"""The 1022 hotline's cases reach citizen reports through the data hub: its source stores them
as a dataset, each stored page is published, and the subscriber files one report per case —
at the unit the hub matched, once, however often the cases are read again."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from dieuhanh.citizen.hotline import subscriptions
from dieuhanh.citizen.models import Channel, CitizenReport
from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.runs import run_source
from dieuhanh.datahub.service import save_source
from dieuhanh.datahub.spec import parse_spec
from dieuhanh.datahub.standins import HotlineStandIn, hotline_source
from tests.core.kit import deliver, subscribe
from tests.datahub.conftest import COMMUNES, HUB_SETTINGS


def test_hotline_cases_become_reports_once(
    database_url: str, make_runtime: Callable[..., Runtime]
) -> None:
    runtime = make_runtime(database_url, datahub=HUB_SETTINGS)
    (subscription,) = subscriptions(runtime)
    subscribe(runtime.sessions, subscription)
    stand_in = HotlineStandIn(list(COMMUNES), cases=60)
    url = stand_in.start()
    try:
        with runtime.sessions() as session:
            set_actor(session, SYSTEM)
            save_source(session, parse_spec(hotline_source(url, schedule=None)))
            session.commit()
        assert run_source(runtime, "hotline_1022").status == "succeeded"
        deliver(runtime.sessions, subscription)
        with runtime.sessions() as session:
            reports = session.scalars(
                select(CitizenReport).where(CitizenReport.channel == Channel.IMPORT)
            ).all()
            assert len(reports) == 60
            first = next(r for r in reports if r.external_id == "1022-000001")
            case = stand_in.records[0]
            assert first.description.startswith(case["tieu_de"])
            assert first.located_by == "source" and first.suggested_category is not None
            assert first.received_at.isoformat()[:16] == case["thoi_gian"][:16]
        stand_in.records[0]["trang_thai"] = "Đã trả lời"  # a case changes: read again
        assert run_source(runtime, "hotline_1022").updated == 1
        deliver(runtime.sessions, subscription)
        with runtime.sessions() as session:
            count = session.scalar(select(func.count()).select_from(CitizenReport))
        assert count == 60  # not filed twice
    finally:
        stand_in.stop()
