"""The demo's citizen reports: forty, spread over communes, some handled, the 1022 values
stored; a second start adds none."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from dieuhanh.citizen import demo
from dieuhanh.citizen.models import CitizenReport
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.catalog.models import DataElement, DataValue


def test_the_demo_files_sample_reports_once(runtime: Runtime) -> None:
    part = demo.start(runtime)
    assert "/phan-anh" in part.banner[0]
    with runtime.sessions() as session:
        reports = session.scalars(select(CitizenReport)).all()
        statuses = Counter(report.status for report in reports)
        values = session.scalar(
            select(func.count())
            .select_from(DataValue)
            .join(DataElement, DataElement.id == DataValue.element_id)
            .where(DataElement.code == "REPORTS_1022")
        )
    assert len(reports) == demo.SAMPLE and len({r.unit_id for r in reports}) > 10
    assert statuses["resolved"] + statuses["closed"] == 10 and statuses["accepted"] == 10
    assert values and values > 5
    demo.start(runtime)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(CitizenReport)) == demo.SAMPLE
