"""Completeness and timeliness: on time, late, missing and not yet due, counted by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.catalog.periods import parse_period
from dieuhanh.indicators.reporting.completeness import State, completeness
from tests.conftest import LOC_THANH, LONG_THANH
from tests.indicators import builders as b

# 10/02/2026: January's deadline (end of 02/02) has passed, February's (end of 02/03) has not.
NOW = datetime(2026, 2, 10, 3, 0, tzinfo=UTC)


def scenario(runtime: Runtime) -> dict[str, str]:
    """Form TK01 for four communes; in January A on time, B late, C missing, D gone (merged)."""
    with runtime.sessions() as session:
        a, c_unit, d = b.communes(session, 3)
        b_unit = b.unit(session, LOC_THANH)
        d.valid_to = date(2026, 1, 1)
        done = b.element(session, "HS_TIEP_NHAN")
        report = b.form(session, "TK01", [done], [a, b_unit, c_unit, d])
        b.submit(session, report, a, "202601", on_time=True)
        b.submit(session, report, b_unit, "202601", on_time=False)
        b.submit(session, report, d, "202512", on_time=True)
        session.commit()
        return {"A": a.code, "B": b_unit.code, "C": c_unit.code, "D": d.code}


def test_on_time_late_missing_and_not_due_counted(runtime: Runtime) -> None:
    codes = scenario(runtime)
    with runtime.sessions() as session:
        report = b.form_by_code(session, "TK01")
        result = completeness(
            session,
            report,
            [parse_period("202601"), parse_period("202602")],
            restrict_to=None,
            now=NOW,
        )
    totals = result.totals
    assert (totals.expected, totals.submitted, totals.on_time, totals.late, totals.missing) == (
        3,
        2,
        1,
        1,
        1,
    )
    assert totals.reporting_rate == pytest.approx(200 / 3)
    assert totals.on_time_rate == pytest.approx(100 / 3)
    rows = {row.code: row for row in result.units}
    assert rows[codes["A"]].states == {"202601": State.ON_TIME, "202602": State.NOT_DUE}
    assert rows[codes["B"]].states == {"202601": State.LATE, "202602": State.NOT_DUE}
    assert rows[codes["C"]].states == {"202601": State.MISSING, "202602": State.NOT_DUE}
    # D stopped existing on 01/01/2026: nothing expected of it in 2026.
    assert rows[codes["D"]].states == {}
    # Worst first: C reported nothing, B late, A perfect, D had nothing to judge.
    assert [row.code for row in result.units] == [codes[k] for k in "CBAD"]
    assert rows[codes["C"]].counts.reporting_rate == 0
    assert rows[codes["B"]].counts.on_time_rate == 0
    assert rows[codes["D"]].counts.reporting_rate is None


def test_the_deadline_is_the_end_of_the_day_in_province_time(runtime: Runtime) -> None:
    codes = scenario(runtime)
    january = [parse_period("202601")]
    with runtime.sessions() as session:
        report = b.form_by_code(session, "TK01")
        # 02/02/2026 23:59 in Vietnam is 16:59 UTC: C still has a minute.
        before = completeness(
            session, report, january, restrict_to=None, now=datetime(2026, 2, 2, 16, 59, tzinfo=UTC)
        )
        after = completeness(
            session, report, january, restrict_to=None, now=datetime(2026, 2, 2, 17, 0, tzinfo=UTC)
        )
    state = {row.code: row.states["202601"] for row in before.units if row.states}
    assert state[codes["C"]] is State.NOT_DUE
    assert before.totals.expected == 2 and before.totals.reporting_rate == 100
    state = {row.code: row.states["202601"] for row in after.units if row.states}
    assert state[codes["C"]] is State.MISSING
    assert after.totals.expected == 3


def test_a_year_splits_into_the_forms_months_and_a_week_is_refused(runtime: Runtime) -> None:
    codes = scenario(runtime)
    with runtime.sessions() as session:
        report = b.form_by_code(session, "TK01")
        year = completeness(session, report, [parse_period("2025")], restrict_to=None, now=NOW)
        assert [p.code for p in year.periods] == [f"2025{m:02d}" for m in range(1, 13)]
        # The communes exist since the 2025 merger (valid_from 01/07/2025): 4 units × July to
        # December = 24 expected; only D's December report arrived.
        assert (year.totals.expected, year.totals.submitted, year.totals.missing) == (24, 1, 23)
        d_row = next(row for row in year.units if row.code == codes["D"])
        assert d_row.states["202512"] is State.ON_TIME
        assert sorted(d_row.states) == [f"2025{m:02d}" for m in range(7, 13)]
        with pytest.raises(InvalidInput, match="2026W5"):
            completeness(session, report, [parse_period("2026W5")], restrict_to=None, now=NOW)


def test_completeness_endpoint_and_scope(client: TestClient, auth, runtime: Runtime) -> None:
    codes = scenario(runtime)
    response = client.get(
        "/api/v1/completeness",
        params={"form": "TK01", "period": "202512;202601"},
        headers=auth("viewer"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["form"] == "TK01" and body["periods"] == ["202512", "202601"]
    # December: 4 expected, only D reported; January: 3 expected (D gone), A on time, B late.
    assert body["totals"] == {
        "expected": 7,
        "submitted": 3,
        "onTime": 2,
        "late": 1,
        "missing": 4,
        "reportingRate": 42.9,
        "onTimeRate": 28.6,
    }
    b_row = next(u for u in body["units"] if u["unit"] == codes["B"])
    assert b_row["periods"] == {"202512": "missing", "202601": "late"}
    assert (b_row["expected"], b_row["submitted"], b_row["onTime"]) == (2, 1, 0)
    assert b_row["reportingRate"] == 50.0 and b_row["unitName"]
    # A commune officer sees its own row only (LOC_THANH is B).
    own = client.get(
        "/api/v1/completeness",
        params={"form": "TK01", "period": "202601"},
        headers=auth("commune"),
    ).json()
    assert [u["unit"] for u in own["units"]] == [LOC_THANH]
    assert own["totals"]["expected"] == 1
    # Another commune's figures are out of a commune officer's scope.
    other = client.get(
        "/api/v1/completeness",
        params={"form": "TK01", "period": "202601", "unit": LONG_THANH},
        headers=auth("commune"),
    )
    assert other.status_code == 403
    for params, field in (
        ({"form": "NOPE", "period": "202601"}, "NOPE"),
        ({"form": "TK01", "period": "2026M13"}, "2026M13"),
        ({"form": "TK01", "period": "202601", "unit": "XX"}, "XX"),
    ):
        bad = client.get("/api/v1/completeness", params=params, headers=auth("viewer"))
        assert bad.status_code in (404, 422), bad.text
        assert field in bad.json()["error"]["message"]
