"""Indicator analytics against figures computed by hand, on both databases.

Two communes, A and B, report processed dossiers (HS_XL, by channel ONLINE/DIRECT) and overdue
ones (HS_QH); the overdue rate TL_QH = HS_QH ÷ HS_XL × 100. Every expected figure below is worked
out in its comment from the values in ``figures``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dieuhanh.core.access import Scope
from dieuhanh.core.errors import Forbidden, InvalidInput
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.analytics.analytics import analyze, element_values, legend_color, query
from dieuhanh.indicators.catalog.form_models import Approval
from dieuhanh.indicators.catalog.periods import parse_period
from dieuhanh.indicators.values.save import ValueRow, save_values
from dieuhanh.units.models import Unit
from tests.conftest import LOC_THANH
from tests.indicators import builders as b

LEGEND = [
    {"start": None, "end": 10, "color": "green", "label": "Tốt"},
    {"start": 10, "end": 25, "color": "yellow", "label": "Cần cố gắng"},
    {"start": 25, "end": None, "color": "red", "label": "Kém"},
]
# 10/03/2026: January's and February's reports are due, March's is not.
NOW = datetime(2026, 3, 10, tzinfo=UTC)

# (element, unit, period, option) → value
VALUES: list[tuple[str, str, str, str, float]] = [
    ("HS_XL", "A", "202601", "ONLINE", 30),
    ("HS_XL", "A", "202601", "DIRECT", 10),
    ("HS_XL", "A", "202602", "ONLINE", 20),
    ("HS_XL", "A", "202602", "DIRECT", 20),
    ("HS_XL", "A", "202501", "ONLINE", 10),
    ("HS_XL", "A", "202501", "DIRECT", 10),
    ("HS_XL", "B", "202601", "ONLINE", 50),
    ("HS_XL", "B", "202601", "DIRECT", 10),
    ("HS_QH", "A", "202601", "", 2),
    ("HS_QH", "A", "202602", "", 6),
    ("HS_QH", "B", "202601", "", 18),
    ("HS_QH", "B", "202602", "", 1),
    ("SO_TRUONG", "A", "202601", "", 10),
    ("SO_TRUONG", "A", "202602", "", 12),
    ("SO_TRUONG", "A", "202603", "", 11),
    ("SO_TRUONG", "B", "202601", "", 5),
    ("SO_TRUONG", "B", "202602", "", 5),
    ("TON", "A", "202601", "", 7),
    ("TON", "A", "202602", "", 3),
    ("TON", "B", "202601", "", 4),
    ("CHO", "A", "202601", "", 5),
    ("CHO", "A", "202602", "", 9),
    ("CHO", "B", "202601", "", 7),
]


@pytest.fixture
def units(runtime: Runtime) -> dict[str, str]:
    """Builds the figures; returns the test's unit names → codes."""
    with runtime.sessions() as session:
        a, b_unit = b.communes(session, 2)
        where = {"A": a, "B": b_unit}
        elements = {
            "HS_XL": b.element(session, "HS_XL", options=["ONLINE", "DIRECT"]),
            "HS_QH": b.element(session, "HS_QH"),
            "SO_TRUONG": b.element(session, "SO_TRUONG", aggregation="average"),
            "TON": b.element(session, "TON", aggregation="last"),
            "CHO": b.element(session, "CHO", aggregation="max"),
        }
        for code, unit_name, period, option, value in VALUES:
            b.put(session, elements[code], where[unit_name], period, value, option)
        # A text value (numeric NULL) never counts: Q1 totals below ignore it.
        b.put(session, elements["HS_QH"], b_unit, "202603", "không rõ")
        define_indicators(session)
        session.commit()
        return {"A": a.code, "B": b_unit.code, "province": "75"}


def define_indicators(session: Session) -> None:
    b.constant(session, "HAI", 2)
    b.indicator(session, "TL_QH", "#{HS_QH}", "#{HS_XL}", factor=100, legend=LEGEND)
    b.indicator(session, "TL_ONLINE", "#{HS_XL.ONLINE}", "#{HS_XL}", factor=100)
    b.indicator(session, "TANG_HS", "#{HS_XL} - #{HS_XL}.periodOffset(-12)", decimals=0)
    b.indicator(session, "HS_LUY_KE", "#{HS_XL}.yearToDate()", decimals=0)
    b.indicator(session, "TL_QH_X2", "N{TL_QH} * C{HAI}")
    b.indicator(session, "SO_TRUONG", "#{SO_TRUONG}")
    b.indicator(session, "TON", "#{TON}", decimals=0)
    b.indicator(session, "CHO_MAX", "#{CHO}", decimals=0)
    b.indicator(session, "CHO_MIN", "#{CHO}.aggregationType(MIN)", decimals=0)


def run(
    runtime: Runtime, indicator: str, units: list[str], periods: str, **options: object
) -> dict[tuple[str, str], object]:
    """value per (unit, period)."""
    with runtime.sessions() as session:
        rows = query(
            session,
            indicators=[indicator],
            units=units,
            periods=[parse_period(p) for p in periods.split(";")],
            now=NOW,
            **options,  # type: ignore[arg-type]
        )
    return {(row.unit, row.period): row.value for row in rows}


def test_a_ratio_adds_numerator_and_denominator_first(runtime: Runtime, units) -> None:
    a, b_unit, province = units["A"], units["B"], units["province"]
    got = run(runtime, "TL_QH", [a, b_unit, province], "202601;202602;2026Q1")
    # A: 2 overdue of 30+10 = 40 → 5 %; B: 18 of 50+10 = 60 → 30 %.
    assert got[(a, "202601")] == 5.0 and got[(b_unit, "202601")] == 30.0
    # Province: (2+18) ÷ (40+60) = 20 %, not the mean of the rates (17.5 %).
    assert got[(province, "202601")] == 20.0
    # February: A 6 ÷ 40 = 15 %; province (6+1) ÷ 40 = 17.5 % (B processed nothing).
    assert got[(a, "202602")] == 15.0 and got[(province, "202602")] == 17.5
    # Q1: (2+6+18+1) ÷ (40+40+60) = 27 ÷ 140 = 19.2857… → 19.3.
    assert got[(province, "2026Q1")] == 19.3


def test_rows_carry_numerator_denominator_names_and_colour(runtime: Runtime, units) -> None:
    with runtime.sessions() as session:
        rows = query(
            session,
            indicators=["TL_QH"],
            units=[units["B"]],
            periods=[parse_period("202601"), parse_period("202602")],
        )
    first, second = rows
    assert first.to_json() == {
        "indicator": "TL_QH",
        "unit": units["B"],
        "period": "202601",
        "value": 30.0,
        "numerator": 18.0,
        "denominator": 60.0,
        "unitName": first.unit_name,
        "periodName": "Tháng 01/2026",
        "color": "red",
    }
    # B overdue 1 in February with nothing processed: a numerator, no value, no colour.
    assert (second.period, second.value, second.numerator, second.denominator) == (
        "202602",
        None,
        1.0,
        None,
    )
    assert second.color is None


def test_a_disaggregation_option(runtime: Runtime, units) -> None:
    got = run(runtime, "TL_ONLINE", [units["A"], units["province"]], "202601;2026Q1")
    assert got[(units["A"], "202601")] == 75.0  # 30 of 40
    # Q1 province: (30+20+50) ÷ 140 = 71.43 %.
    assert got[(units["province"], "2026Q1")] == 71.4


def test_same_period_last_year_and_year_to_date(runtime: Runtime, units) -> None:
    a, province = units["A"], units["province"]
    growth = run(runtime, "TANG_HS", [a, province], "202601")
    # A: 40 in 01/2026 − 20 in 01/2025; province 100 − 20 (B reported nothing in 2025).
    assert growth == {(a, "202601"): 20.0, (province, "202601"): 80.0}
    cumulative = run(runtime, "HS_LUY_KE", [a, province], "202601;202602")
    # Year to date at February: A 40 + 40; province 40 + 60 + 40.
    assert cumulative[(a, "202602")] == 80.0 and cumulative[(province, "202602")] == 140.0
    assert cumulative[(province, "202601")] == 100.0


def test_indicator_of_an_indicator_and_a_constant(runtime: Runtime, units) -> None:
    got = run(runtime, "TL_QH_X2", [units["province"]], "202601")
    # N{TL_QH} at the province is 20 %, × C{HAI} = 2.
    assert got == {(units["province"], "202601"): 40.0}


def test_aggregation_types_over_units_and_periods(runtime: Runtime, units) -> None:
    a, province = units["A"], units["province"]
    schools = run(runtime, "SO_TRUONG", [a, province], "202601;2026Q1")
    # average: A (10+12+11)/3 = 11; province per month 15, 17, 11 → 43/3 = 14.33.
    assert schools[(a, "2026Q1")] == 11.0 and schools[(province, "2026Q1")] == 14.3
    assert schools[(province, "202601")] == 15.0  # one month: the sum over units
    stock = run(runtime, "TON", [a, province], "2026Q1;2026")
    # last: A's latest is February's 3; province adds B's latest, January's 4.
    assert stock[(a, "2026Q1")] == 3 and stock[(province, "2026Q1")] == 7
    assert stock[(province, "2026")] == 7
    longest = run(runtime, "CHO_MAX", [province], "2026Q1")
    shortest = run(runtime, "CHO_MIN", [province], "2026Q1")
    assert longest[(province, "2026Q1")] == 9 and shortest[(province, "2026Q1")] == 5


def test_month_quarter_year_of_a_sum(runtime: Runtime, units) -> None:
    with runtime.sessions() as session:
        rows = element_values(
            session,
            elements=["HS_XL", "HS_XL.ONLINE"],
            units=[units["province"]],
            periods=[parse_period(p) for p in ("202601", "2026Q1", "2026", "2025")],
        )
    got = {(r.element, r.option, r.period): r.value for r in rows}
    assert got == {
        ("HS_XL", "", "202601"): 100.0,
        ("HS_XL", "", "2026Q1"): 140.0,
        ("HS_XL", "", "2026"): 140.0,
        ("HS_XL", "", "2025"): 20.0,
        ("HS_XL", "ONLINE", "202601"): 80.0,
        ("HS_XL", "ONLINE", "2026Q1"): 100.0,
        ("HS_XL", "ONLINE", "2026"): 100.0,
        ("HS_XL", "ONLINE", "2025"): 10.0,
    }


def test_level_commune_lists_the_province_communes(runtime: Runtime, units) -> None:
    with runtime.sessions() as session:
        analysis = analyze(
            session,
            indicators=["TL_QH"],
            level="commune",
            parent="75",
            periods=[parse_period("202601")],
        )
    assert len(analysis.units) == 95
    assert {(r.unit, r.value) for r in analysis.rows} == {(units["A"], 5.0), (units["B"], 30.0)}


def test_reporting_rate_from_submissions(runtime: Runtime, units) -> None:
    with runtime.sessions() as session:
        a, b_unit = b.unit(session, units["A"]), b.unit(session, units["B"])
        report = b.form(session, "TK01", [], [a, b_unit])
        b.submit(session, report, a, "202601", on_time=True)
        b.indicator(session, "TL_NOP", "R{TK01.REPORTING_RATE}")
        b.indicator(session, "SO_NOP", "R{TK01.ACTUAL_REPORTS}", decimals=0)
        session.commit()
    rate = run(runtime, "TL_NOP", [units["A"], units["province"]], "202601;2026Q1")
    # January: A reported, B did not → 1 of 2. Q1 at 10/03: January and February due (March
    # is not): 1 of 4.
    assert rate[(units["province"], "202601")] == 50.0
    assert rate[(units["province"], "2026Q1")] == 25.0
    assert rate[(units["A"], "2026Q1")] == 50.0
    assert run(runtime, "SO_NOP", [units["province"]], "2026Q1") == {
        (units["province"], "2026Q1"): 1
    }


def test_unapproved_values_hidden_on_request(runtime: Runtime, units) -> None:
    with runtime.sessions() as session:
        a, b_unit = b.unit(session, units["A"]), b.unit(session, units["B"])
        overdue = b.element_by_code(session, "HS_QH")
        report = b.form(session, "TK02", [overdue], [a, b_unit], hide_unapproved=True)
        session.add(
            Approval(form_id=report.id, unit_id=a.id, period_code="202601", approved_by="t")
        )
        session.commit()
    province = units["province"]
    shown = run(runtime, "TL_QH", [province], "202601", include_unapproved=False)
    # Only A's approved 2 overdue count; HS_XL is in no form that hides, so all 100 count.
    assert shown == {(province, "202601"): 2.0}
    assert run(runtime, "TL_QH", [province], "202601") == {(province, "202601"): 20.0}


def test_a_value_saved_is_in_the_next_query(runtime: Runtime, units) -> None:
    province = units["province"]
    assert run(runtime, "TL_QH", [province], "202601") == {(province, "202601"): 20.0}
    with runtime.sessions() as session:
        summary = save_values(
            session,
            None,
            [ValueRow(element="HS_QH", unit=LOC_THANH, period="202601", value="30")],
            source="api",
        )
        assert summary.imported == 1, summary.to_json()
        session.commit()
    # (20 + 30) ÷ 100: no batch job between.
    assert run(runtime, "TL_QH", [province], "202601") == {(province, "202601"): 50.0}


def test_bad_requests_name_what_is_wrong(runtime: Runtime, units) -> None:
    january = [parse_period("202601")]
    with runtime.sessions() as session:
        b.indicator(session, "HONG", "#{HS_QH} + ", "1")
        b.indicator(session, "VONG_A", "N{VONG_B}")
        b.indicator(session, "VONG_B", "N{VONG_A} + 1")
        b.indicator(session, "LA", "#{KHONG_CO}")
        b.indicator(session, "SAI_PHAN_TO", "#{HS_XL.FAX}")
        session.commit()
        cases = [
            (["KHONG"], [units["A"]], "KHONG"),
            (["TL_QH"], ["99999"], "99999"),
            (["HONG"], [units["A"]], "position"),
            (["VONG_A"], [units["A"]], "VONG_A → VONG_B → VONG_A"),
            (["LA"], [units["A"]], "KHONG_CO"),
            (["SAI_PHAN_TO"], [units["A"]], "FAX"),
        ]
        for indicators, unit_codes, named in cases:
            with pytest.raises(InvalidInput, match=named):
                query(session, indicators=indicators, units=unit_codes, periods=january)


def test_a_commune_sees_only_itself(runtime: Runtime, units) -> None:
    with runtime.sessions() as session:
        own = b.unit(session, LOC_THANH)
        b.put(session, b.element_by_code(session, "HS_QH"), own, "202601", 3)
        b.put(session, b.element_by_code(session, "HS_XL"), own, "202601", 12, "ONLINE")
        session.commit()
        scope = Scope(frozenset({own.id}))
        rows = query(
            session,
            indicators=["TL_QH"],
            level="commune",
            parent="75",
            periods=[parse_period("202601")],
            scope=scope,
        )
        assert [(r.unit, r.value) for r in rows] == [(LOC_THANH, 25.0)]
        with pytest.raises(Forbidden):
            query(
                session,
                indicators=["TL_QH"],
                units=[units["A"]],
                periods=[parse_period("202601")],
                scope=scope,
            )


def test_legend_bands() -> None:
    assert [legend_color(LEGEND, v) for v in (0, 9.9, 10, 24.9, 25, 300, None)] == [
        "green",
        "green",
        "yellow",
        "yellow",
        "red",
        "red",
        None,
    ]
    closed = [{"start": 0, "end": 90, "color": "red"}, {"start": 90, "end": 100, "color": "green"}]
    assert legend_color(closed, 100) == "green" and legend_color(closed, 100.5) is None


def test_analytics_endpoint(client: TestClient, auth, units) -> None:
    response = client.get(
        "/api/v1/analytics",
        params={"indicator": "TL_QH,TL_ONLINE", "unit": f"{units['A']},75", "period": "202601"},
        headers=auth("viewer"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    got = {(r["indicator"], r["unit"], r["period"]): r["value"] for r in body["rows"]}
    assert got == {
        ("TL_QH", units["A"], "202601"): 5.0,
        ("TL_QH", "75", "202601"): 20.0,
        ("TL_ONLINE", units["A"], "202601"): 75.0,
        ("TL_ONLINE", "75", "202601"): 80.0,
    }
    assert set(body["rows"][0]) >= {
        "indicator",
        "unit",
        "period",
        "value",
        "numerator",
        "denominator",
    }
    meta = body["metaData"]
    assert "Đồng Nai" in meta["units"]["75"]
    assert meta["periods"] == {"202601": "Tháng 01/2026"}
    assert meta["indicators"]["TL_QH"]["factor"] == 100
    assert meta["indicators"]["TL_QH"]["legend"] == LEGEND
    # A commune officer asking for every commune gets its own (empty here, no figures).
    own = client.get(
        "/api/v1/analytics",
        params={"indicator": "TL_QH", "level": "commune", "period": "LAST_12_MONTHS"},
        headers=auth("commune"),
    )
    assert own.status_code == 200 and list(own.json()["metaData"]["units"]) == [LOC_THANH]
    for params, named, status in (
        ({"indicator": "NOPE", "unit": "75", "period": "202601"}, "NOPE", 422),
        ({"indicator": "TL_QH", "unit": "75", "period": "202613"}, "202613", 422),
        ({"indicator": "TL_QH", "unit": "ZZZ", "period": "202601"}, "ZZZ", 422),
        ({"indicator": "TL_QH", "level": "hamlet", "period": "202601"}, "hamlet", 422),
    ):
        bad = client.get("/api/v1/analytics", params=params, headers=auth("viewer"))
        assert bad.status_code == status, bad.text
        assert named in bad.json()["error"]["message"]
    outside = client.get(
        "/api/v1/analytics",
        params={"indicator": "TL_QH", "unit": units["A"], "period": "202601"},
        headers=auth("commune"),
    )
    assert outside.status_code == 403


def noisy_areas(session: Session, *, later: float | None = None) -> Unit:
    """DIEN_TICH 0.1 and 0.2 in two communes in 01/2026 (0.30000000000000004 as floats added),
    ``later`` in the first in 03/2026; the indicator #{DIEN_TICH}. The first commune."""
    a, b_unit = b.communes(session, 2)
    area = b.element(session, "DIEN_TICH")
    b.put(session, area, a, "202601", 0.1)
    b.put(session, area, b_unit, "202601", 0.2)
    if later is not None:
        b.put(session, area, a, "202603", later)
    b.indicator(session, "DIEN_TICH", "#{DIEN_TICH}", decimals=3)
    session.commit()
    return a


def test_numerators_keep_whole_counts_and_lose_float_noise(runtime: Runtime, units) -> None:
    with runtime.sessions() as session:
        noisy_areas(session)
        rows = query(session, indicators=["DIEN_TICH", "TL_QH"], units=[units["province"]],
                     periods=[parse_period("202601")])  # fmt: skip
    got = {row.indicator: (row.numerator, row.value) for row in rows}
    # 0.1 + 0.2 is 0.30000000000000004 as floats: the answer says 0.3.
    assert got["DIEN_TICH"] == (0.3, 0.3)
    # 2 + 18 overdue stays the count 20.
    assert got["TL_QH"] == (20.0, 20.0)
    assert isinstance(got["TL_QH"][0], float)


def test_a_row_of_periods_is_tidied_whole_or_cell_by_cell(runtime: Runtime, units) -> None:
    # A unit's row of periods is checked for whole numbers at once; a row with an empty month
    # or a noisy sum is tidied cell by cell, and the empty month is left out.
    with runtime.sessions() as session:
        a = noisy_areas(session, later=5)
        periods = [parse_period(code) for code in ("202601", "202602", "202603")]
        rows = query(session, indicators=["DIEN_TICH"], units=[units["province"]],
                     periods=periods)  # fmt: skip
        whole = query(session, indicators=["DIEN_TICH"], units=[a.code], periods=periods[2:])
    assert [(row.period, row.numerator, row.value) for row in rows] == [
        ("202601", 0.3, 0.3), ("202603", 5.0, 5.0)
    ]  # fmt: skip
    assert [(row.numerator, row.value) for row in whole] == [(5.0, 5.0)]
