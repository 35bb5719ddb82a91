"""Indicator bands and targets after values are saved, on both databases: a save publishes one
``data_values.changed``; the subscriber computes the watched indicators with the analytics
engine and publishes ``indicator.band_changed`` when a figure changes band or crosses its
target; an alert rule on it raises and clears once. Old history seen for the first time is
quiet."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dieuhanh.alerts.models import Alert
from dieuhanh.alerts.rules import RuleSpec
from dieuhanh.alerts.service import store_rule
from dieuhanh.alerts.subscriber import subscriptions as alert_subscriptions
from dieuhanh.core.access import Principal
from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.events import EventRecord
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.analytics.bands import check_bands, subscriptions
from dieuhanh.indicators.catalog.periods import PeriodType, period_of
from dieuhanh.indicators.values.save import ValueRow, save_values
from tests.alerts.conftest import only_rules
from tests.conftest import LOC_THANH
from tests.core.kit import deliver, subscribe
from tests.indicators import builders as b

RATE = "REPORTS_1022_ON_TIME_RATE"


def save(runtime: Runtime, period: str, received: int, on_time: int) -> None:
    with runtime.sessions() as session:
        set_actor(session, SYSTEM)
        save_values(session, Principal.system("test", "75"), [
            ValueRow("REPORTS_1022", LOC_THANH, period, str(received)),
            ValueRow("REPORTS_1022_ON_TIME", LOC_THANH, period, str(on_time)),
        ], source="connector")  # fmt: skip
        session.commit()


def band_events(runtime: Runtime) -> list[tuple[str, str, str | None, bool | None]]:
    with runtime.sessions() as session:
        payloads = session.scalars(
            select(EventRecord.payload).where(EventRecord.topic == "indicator.band_changed")
            .order_by(EventRecord.id)
        ).all()  # fmt: skip
    return [(p["unit_code"], p["period"], p["color"], p["meets_target"]) for p in payloads
            if p["indicator"] == RATE]  # fmt: skip


def test_a_figure_changing_band_is_announced_and_alerts(runtime: Runtime) -> None:
    only_rules(runtime)
    with runtime.sessions() as session:
        store_rule(session, RuleSpec.model_validate({
            "code": "hotline_on_time_low", "name": "Tỷ lệ xử lý đúng hạn 1022 không đạt",
            "topic": "indicator.band_changed",
            "when": f"indicator == '{RATE}' and color == 'red'", "clear": "color != 'red'",
            "subject": "{indicator}:{unit_code}:{period}", "severity": "major",
            "title": "{indicator_name} tại {unit_name} kỳ {period}: {value} %"}))  # fmt: skip
        session.commit()
    subscribe(runtime.sessions, *subscriptions(runtime), *alert_subscriptions(runtime))
    (bands,) = subscriptions(runtime)
    (rules,) = alert_subscriptions(runtime)
    month = period_of(PeriodType.MONTHLY, utcnow().date()).code

    def step(received: int, on_time: int) -> None:
        save(runtime, month, received, on_time)
        deliver(runtime.sessions, bands)
        deliver(runtime.sessions, rules)

    step(10, 8)  # 80 %: red, under the 95 % target
    step(10, 8)  # the same again: nothing changes, nothing announced
    # (The province's figure covers Lộc Thạnh's too: it is announced, and alerts, on its own.)
    mine = select(Alert).where(Alert.subject == f"{RATE}:{LOC_THANH}:{month}")
    with runtime.sessions() as session:
        (alert,) = session.scalars(mine)
        assert alert.state == "open" and alert.title.endswith(f"kỳ {month}: 80.0 %")
    step(10, 9)  # 90 %: yellow
    step(10, 10)  # 100 %: green, target met
    announced = [e for e in band_events(runtime) if e[0] == LOC_THANH]
    assert announced == [(LOC_THANH, month, "red", False), (LOC_THANH, month, "yellow", False),
                    (LOC_THANH, month, "green", True)]  # fmt: skip
    with runtime.sessions() as session:
        (alert,) = session.scalars(mine)
        assert alert.state == "resolved" and alert.resolved_by == "rule"
        changed = session.scalars(
            select(EventRecord.payload).where(EventRecord.topic == "data_values.changed")
        ).all()
    # The repeated save changed nothing: no event; later ones name only what changed.
    assert len(changed) == 3 and changed[1]["cells"][0]["elements"] == ["REPORTS_1022_ON_TIME"]
    assert changed[0]["cells"] == [
        {"unit": LOC_THANH, "period": month,
         "elements": ["REPORTS_1022", "REPORTS_1022_ON_TIME"]}]  # fmt: skip


def test_old_history_seen_first_is_quiet(runtime: Runtime) -> None:
    month = period_of(PeriodType.MONTHLY, utcnow().date()).code
    save(runtime, month, 10, 5)  # 50 %, red
    cells = [{"unit": LOC_THANH, "period": month}]
    with runtime.sessions() as session:  # first seen 200 days later: long past, quiet
        assert check_bands(session, cells, utcnow() + timedelta(days=200)) == 0
        session.commit()
    assert band_events(runtime) == []
    subscribe(runtime.sessions, *subscriptions(runtime))
    (bands,) = subscriptions(runtime)
    save(runtime, month, 10, 10)  # a correction of that figure is news
    deliver(runtime.sessions, bands)
    assert [e for e in band_events(runtime) if e[0] == LOC_THANH] == [
        (LOC_THANH, month, "green", True)]  # fmt: skip


def test_a_value_far_from_its_history_is_announced_with_last_year(runtime: Runtime) -> None:
    this_month = period_of(PeriodType.MONTHLY, utcnow().date())
    with runtime.sessions() as session:
        calls = b.element(session, "TEST_FLOOD_CALLS")
        commune = b.unit(session, LOC_THANH)
        for back, value in enumerate([40, 42, 38, 41, 39, 43, 40, 44, 37, 41, 40, 39], start=1):
            b.put(session, calls, commune, this_month.offset(-back).code, value)
        session.commit()
    subscribe(runtime.sessions, *subscriptions(runtime))
    (bands,) = subscriptions(runtime)

    def save_calls(value: str) -> None:
        with runtime.sessions() as session:
            set_actor(session, SYSTEM)
            row = ValueRow("TEST_FLOOD_CALLS", LOC_THANH, this_month.code, value)
            save_values(session, Principal.system("test", "75"), [row], source="api")
            session.commit()
        deliver(runtime.sessions, bands)

    save_calls("41")
    assert outliers(runtime) == []  # 41 is ordinary
    save_calls("160")
    (found,) = outliers(runtime)
    assert (found["element"], found["unit_code"], found["value"]) == (
        "TEST_FLOOD_CALLS", LOC_THANH, 160)  # fmt: skip
    assert found["score"] > 3.5 and found["history"] == 12 and found["last_year"] == 39


def outliers(runtime: Runtime) -> list[dict[str, object]]:
    with runtime.sessions() as session:
        query = select(EventRecord.payload).where(EventRecord.topic == "data_value.outlier")
        return list(session.scalars(query))


def test_the_same_figure_again_writes_nothing(runtime: Runtime) -> None:
    # A month saved again with other values giving the same figures: its bands are computed
    # again and found the same, so no band row is written (updated_at is when the figure last
    # changed).
    from dieuhanh.indicators.analytics.bands import IndicatorBand

    subscribe(runtime.sessions, *subscriptions(runtime))
    (bands,) = subscriptions(runtime)
    month = period_of(PeriodType.MONTHLY, utcnow().date()).code

    def stamps() -> dict[tuple[str, str], object]:
        with runtime.sessions() as session:
            rows = session.scalars(select(IndicatorBand).where(IndicatorBand.period == month))
            return {(band.indicator, band.unit_code): band.updated_at for band in rows}

    save(runtime, month, 10, 8)
    deliver(runtime.sessions, bands)
    first = stamps()
    assert first
    save(runtime, month, 10, 9)  # 90 %: a changed figure is written
    deliver(runtime.sessions, bands)
    second = stamps()
    assert second[(RATE, LOC_THANH)] != first[(RATE, LOC_THANH)]
    save(runtime, month, 20, 18)  # other values, the same 90 %: computed again, not written
    deliver(runtime.sessions, bands)
    assert stamps() == second
