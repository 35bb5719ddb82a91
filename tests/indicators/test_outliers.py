"""Outliers against each unit's own history, with the scores worked out by hand."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient

from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.analytics.outliers import Method, find_outliers, score
from dieuhanh.indicators.catalog.periods import parse_period
from tests.indicators import builders as b

STEADY = [10, 12, 11, 13, 9, 10, 11, 12]


def test_z_score_by_hand() -> None:
    # mean 88/8 = 11; squared deviations 1+1+0+4+4+1+0+1 = 12 → sd √(12/8) = 1.224745.
    judged = score(STEADY, 30, Method.Z, 3.0)
    assert judged is not None
    assert judged.mean == 11 and judged.spread == pytest.approx(math.sqrt(1.5))
    assert judged.score == pytest.approx(19 / math.sqrt(1.5))  # 15.5134
    assert (judged.lower, judged.upper) == pytest.approx((11 - 3 * 1.224745, 11 + 3 * 1.224745))


def test_modified_z_score_by_hand() -> None:
    # median 11; |x − 11| = 1,1,0,2,2,1,0,1 → MAD 1 → 0.6745 × 19 / 1 = 12.8155.
    judged = score(STEADY, 30, Method.MODIFIED_Z, 3.5)
    assert judged is not None
    assert judged.median == 11 and judged.score == pytest.approx(12.8155)
    # Band: 11 ± 3.5 × 1/0.6745.
    assert (judged.lower, judged.upper) == pytest.approx((5.810971, 16.189029))
    assert score(STEADY, 12, Method.MODIFIED_Z, 3.5).score == pytest.approx(0.6745)  # type: ignore[union-attr]


def test_zero_heavy_history_falls_back_to_mean_absolute_deviation() -> None:
    # median 0, MAD 0 (six zeros); mean |x − 0| = 12/8 = 1.5 → 20 / (1.253314 × 1.5) = 10.6385.
    judged = score([0, 0, 0, 0, 0, 0, 4, 8], 20, Method.MODIFIED_Z, 3.5)
    assert judged is not None and judged.score == pytest.approx(10.638462)


def test_short_or_flat_histories_are_not_judged() -> None:
    assert score([10, 11, 12, 10, 11], 500, Method.MODIFIED_Z, 3.5) is None  # 5 < 6 values
    assert score([5] * 10, 6, Method.MODIFIED_Z, 3.5) is None  # MAD and mean deviation 0
    assert score([5] * 10, 6, Method.Z, 3.0) is None  # sd 0


# A's monthly online dossiers in 2025, then 300 in January 2026; B steady throughout.
HISTORY_A = [100, 104, 98, 101, 99, 103, 97, 102, 100, 101, 99, 100]


@pytest.fixture
def units(runtime: Runtime) -> dict[str, str]:
    with runtime.sessions() as session:
        a, b_unit = b.communes(session, 2)
        dossiers = b.element(session, "HS_XL", options=["ONLINE", "DIRECT"])
        for month, value in enumerate(HISTORY_A, start=1):
            b.put(session, dossiers, a, f"2025{month:02d}", value, "ONLINE")
            b.put(session, dossiers, b_unit, f"2025{month:02d}", 50 + month % 3, "ONLINE")
        b.put(session, dossiers, a, "202601", 300, "ONLINE")
        b.put(session, dossiers, b_unit, "202601", 52, "ONLINE")
        b.form(session, "TK01", [dossiers], [a, b_unit])
        session.commit()
        return {"A": a.code, "B": b_unit.code}


def test_a_value_far_from_its_units_history(runtime: Runtime, units) -> None:
    with runtime.sessions() as session:
        element = b.element_by_code(session, "HS_XL")
        ids = frozenset(b.unit(session, code).id for code in units.values())
        robust = find_outliers(
            session, elements=[element], unit_ids=ids, periods=[parse_period("202601")]
        )
        plain = find_outliers(
            session,
            elements=[element],
            unit_ids=ids,
            periods=[parse_period("202601")],
            method=Method.Z,
        )
        whole_year = find_outliers(
            session, elements=[element], unit_ids=ids, periods=[parse_period("2025")]
        )
    (found,) = robust
    assert (found.unit, found.period, found.option, found.value) == (
        units["A"],
        "202601",
        "ONLINE",
        300,
    )
    # Median of the 12 earlier values 100; |x − 100| has median 1 → 0.6745 × 200 = 134.9.
    assert found.median == 100 and found.score == pytest.approx(134.9)
    assert found.history == 12 and found.mean == pytest.approx(1204 / 12)
    # z: mean 100.333, sd 1.929306 → (300 − 100.333) / 1.929306 = 103.49.
    (z_found,) = plain
    assert z_found.score == pytest.approx(103.491437)
    assert (z_found.lower, z_found.upper) == pytest.approx((94.545415, 106.121252))
    # Within 2025 every value is ordinary for its unit (and the first six have too little history).
    assert whole_year == []


def test_outliers_endpoint(client: TestClient, auth, units) -> None:
    response = client.get(
        "/api/v1/outliers", params={"form": "TK01", "period": "202601"}, headers=auth("viewer")
    )
    assert response.status_code == 200, response.text
    (row,) = response.json()
    assert (row["unit"], row["element"], row["value"], row["score"]) == (
        units["A"],
        "HS_XL",
        300,
        134.9,
    )
    assert row["method"] == "modified_z" and row["threshold"] == 3.5 and row["median"] == 100
    # A threshold above A's score leaves nothing.
    assert (
        client.get(
            "/api/v1/outliers",
            params={"element": "HS_XL", "period": "202601", "threshold": 200},
            headers=auth("viewer"),
        ).json()
        == []
    )
    # A commune officer reviews its own unit only: Lộc Thạnh has no values.
    assert (
        client.get(
            "/api/v1/outliers",
            params={"element": "HS_XL", "period": "202601"},
            headers=auth("commune"),
        ).json()
        == []
    )
    assert (
        client.get(
            "/api/v1/outliers",
            params={"element": "HS_XL", "period": "202601", "unit": units["A"]},
            headers=auth("commune"),
        ).status_code
        == 403
    )
    bad = client.get(
        "/api/v1/outliers", params={"element": "KHONG", "period": "202601"}, headers=auth("viewer")
    )
    assert bad.status_code == 422 and "KHONG" in bad.json()["error"]["message"]
