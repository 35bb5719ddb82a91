"""Citizen reports in `dieuhanh demo`: the first time, forty reports from the held-out labelled
texts, placed at points inside random communes over the last three weeks, some accepted,
resolved, rated or late, so the lists, the statistics and the 1022 indicator have data at once.
The public form is at /phan-anh."""

from __future__ import annotations

import random
from datetime import timedelta

from shapely.geometry import shape
from sqlalchemy import func, select

from dieuhanh.citizen import classifier
from dieuhanh.citizen.models import Channel, CitizenReport
from dieuhanh.citizen.service import Intake, Step, file_report, take_step, watch_deadlines
from dieuhanh.citizen.statistics import store_values
from dieuhanh.core.access import Principal
from dieuhanh.core.capability import DemoPart
from dieuhanh.core.db.actor import Actor, set_actor
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.runtime import Runtime
from dieuhanh.gis.models import Boundary
from dieuhanh.units.models import Unit

SAMPLE = 40


def start(runtime: Runtime) -> DemoPart:
    with runtime.sessions() as session:
        if session.scalar(select(func.count()).select_from(CitizenReport)):
            return DemoPart(banner=["Phản ánh hiện trường: /phan-anh"])
        areas = [
            shape(boundary.geometry)
            for boundary in session.scalars(
                select(Boundary)
                .join(Unit, Unit.id == Boundary.unit_id)
                .where(Boundary.valid_to.is_(None), Unit.type.in_(["commune", "ward"]))
            )
        ]
        if not areas:
            return DemoPart()
        set_actor(session, Actor(name="demo", via="system"))
        rng = random.Random(2026)
        texts = [item for item in classifier.labelled() if item.split == "test"]
        now = utcnow()
        operator = Principal.system("demo", runtime.settings.province_code)
        for n in range(SAMPLE):
            item = texts[(n * 7) % len(texts)]
            point = rng.choice(areas).representative_point()
            received = now - timedelta(hours=rng.randint(1, 21 * 24))
            report = file_report(
                session, runtime.settings,
                Intake(category=item.category, description=item.text, lat=point.y, lon=point.x,
                       contact_phone=f"09{rng.randint(10_000_000, 99_999_999)}"),
                Channel.WEB if n % 3 else Channel.HOTLINE, now=received,
                suggestion=classifier.suggest(item.text),
            )  # fmt: skip
            if n % 4 == 0:
                for action, note in (("accept", None), ("resolve", "Đơn vị đã xử lý xong.")):
                    take_step(session, runtime.settings, operator, report,
                              Step(action=action, note=note),
                              now=received + timedelta(hours=20))  # fmt: skip
                report.rating = 3 + n % 3
            elif n % 4 == 1:
                take_step(session, runtime.settings, operator, report, Step(action="accept"),
                          now=received + timedelta(hours=2))  # fmt: skip
        watch_deadlines(session, runtime.settings, now=now)
        store_values(session, runtime.settings, runtime.today())
        session.commit()
    return DemoPart(banner=[f"Phản ánh hiện trường: /phan-anh ({SAMPLE} phản ánh mẫu)"])
