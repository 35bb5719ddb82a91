"""Forecasts that warn before a target is missed, on both databases: Holt's linear trend
checked against numbers worked out by hand; then a falling on-time rate that still meets its
95 % target raises the shipped rule ``indicator_forecast_miss`` once, and clears when the series
recovers. The clock is fixed (20/04/2026): the year's end is eight months ahead."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from dieuhanh.alerts.models import Alert
from dieuhanh.alerts.subscriber import subscriptions
from dieuhanh.core.events import EventRecord
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.analytics.forecast import (
    GRID,
    IndicatorForecast,
    check_forecasts,
    fit_holt,
    holt,
    verdict,
)
from dieuhanh.indicators.catalog.models import DataValue
from tests.alerts.conftest import only_rules
from tests.conftest import LOC_THANH
from tests.core.kit import deliver, subscribe
from tests.indicators import builders as b

NOW = datetime(2026, 4, 20, 3, 0, tzinfo=UTC)
RATE = "REPORTS_1022_ON_TIME_RATE"  # shipped: higher is better, target 95


def test_holt_by_hand() -> None:
    # y = 10, 12, 13, 15; α = 0.5, β = 0.5. ℓ0 = 10, b0 = 2.
    # t1: forecast 12, error 0; ℓ1 = .5·12 + .5·12 = 12; b1 = .5·2 + .5·2 = 2.
    # t2: forecast 14, error −1; ℓ2 = .5·13 + .5·14 = 13.5; b2 = .5·1.5 + .5·2 = 1.75.
    # t3: forecast 15.25, error −0.25; ℓ3 = .5·15 + .5·15.25 = 15.125;
    #     b3 = .5·1.625 + .5·1.75 = 1.6875. SSE = 1 + 0.0625.
    fit = holt([10, 12, 13, 15], 0.5, 0.5)
    assert (fit.level, fit.trend, fit.sse) == (15.125, 1.6875, 1.0625)
    assert fit.project(4) == 15.125 + 4 * 1.6875
    # A straight line is fitted without error by any α, β: the smallest are kept, and the
    # projection continues the line.
    line = fit_holt([99, 98, 97, 96])
    assert (line.alpha, line.beta, line.sse) == (0.1, 0.1, 0.0)
    assert line.project(8) == pytest.approx(88)
    assert verdict("higher_is_better", 95, 96, 88) == "at_risk"
    assert verdict("higher_is_better", 95, 94, 99) == "missed"
    assert verdict("lower_is_better", 5, 4, 4.5) == "on_track"


def test_the_grid_search_is_holt_for_every_pair_bit_for_bit() -> None:
    """fit_holt runs all 81 (α, β) at once; it must pick what the pair-by-pair search picks
    (smallest error, ties to the first in α-major order), with the very same numbers."""
    randomly = random.Random(5)
    series = [[randomly.uniform(0, 100) + step * randomly.uniform(-3, 3)
               for step in range(randomly.randint(2, 24))] for _ in range(200)]  # fmt: skip
    series += [[5, 5, 5, 5], [0, 100, 0, 100, 0, 100], [1e9, 1e9 + 1, 1e9 + 3]]
    for values in series:
        best = None
        for alpha in GRID:
            for beta in GRID:
                fit = holt(values, alpha, beta)
                if best is None or fit.sse < best.sse - 1e-9:
                    best = fit
        assert fit_holt(values) == best


def put_rates(runtime: Runtime, rates: dict[str, int]) -> list[dict[str, str]]:
    """Each month: 100 calls, ``rate`` of them handled on time."""
    with runtime.sessions() as session:
        received = b.element_by_code(session, "REPORTS_1022")
        on_time = b.element_by_code(session, "REPORTS_1022_ON_TIME")
        commune = b.unit(session, LOC_THANH)
        for month, rate in rates.items():
            for row in session.scalars(select(DataValue).where(
                    DataValue.unit_id == commune.id, DataValue.period_code == month,
                    DataValue.element_id.in_([received.id, on_time.id]))):  # fmt: skip
                session.delete(row)
            session.flush()
            b.put(session, received, commune, month, 100)
            b.put(session, on_time, commune, month, rate)
        session.commit()
    return [{"unit": LOC_THANH, "period": month} for month in rates]


def forecasts(runtime: Runtime) -> list[tuple[str, str, float, str]]:
    with runtime.sessions() as session:
        told = EventRecord.topic == "indicator.forecast_miss"
        payloads = session.scalars(select(EventRecord.payload).where(told)).all()
    return [(p["unit_code"], p["verdict"], p["forecast"], p["last_period"]) for p in payloads
            if p["indicator"] == RATE and p["unit_code"] == LOC_THANH]  # fmt: skip


def test_a_target_about_to_be_missed_raises_once_and_clears(runtime: Runtime) -> None:
    only_rules(runtime, "indicator_forecast_miss")
    subscribe(runtime.sessions, *subscriptions(runtime))
    (rules,) = subscriptions(runtime)

    def check(cells: list[dict[str, str]]) -> None:
        with runtime.sessions() as session:
            check_forecasts(session, cells, [LOC_THANH, "75"], NOW)
            session.commit()
        deliver(runtime.sessions, rules)

    # 99, 98, 97, 96 %: April still meets 95 %, the line reaches 88 % in December.
    check(put_rates(runtime, {"202601": 99, "202602": 98, "202603": 97, "202604": 96}))
    check(put_rates(runtime, {"202604": 96}))  # the same again: nothing new to say
    ((unit, said, projected, last),) = forecasts(runtime)
    assert (unit, said, last) == (LOC_THANH, "at_risk", "202604")
    assert projected == pytest.approx(88)
    subject = f"forecast:{RATE}:{LOC_THANH}:2026"
    with runtime.sessions() as session:
        (alert,) = session.scalars(select(Alert).where(Alert.subject == subject))
        assert alert.state == "open" and alert.severity == "warning"
        assert "dự báo 88" in alert.title and "chỉ tiêu 95" in alert.title
    # Corrected figures rise again (96, 97, 98, 99): on track, the alert resolves.
    check(put_rates(runtime, {"202601": 96, "202602": 97, "202603": 98, "202604": 99}))
    assert [said for _, said, _, _ in forecasts(runtime)] == ["at_risk", "on_track"]
    with runtime.sessions() as session:
        (alert,) = session.scalars(select(Alert).where(Alert.subject == subject))
        assert alert.state == "resolved" and alert.resolved_by == "rule"


def test_a_short_history_or_a_past_year_is_not_forecast(runtime: Runtime) -> None:
    cells = put_rates(runtime, {"202602": 98, "202603": 97, "202604": 96})
    with runtime.sessions() as session:  # three months: too few to project a trend
        assert check_forecasts(session, cells, [LOC_THANH], NOW) == 0
    cells = put_rates(runtime, {"202501": 99, "202502": 98, "202503": 97, "202504": 96})
    with runtime.sessions() as session:  # 2025 is over on 20/04/2026: nothing to warn about
        assert check_forecasts(session, cells, [LOC_THANH], NOW) == 0
        assert session.scalars(select(IndicatorForecast)).all() == []
