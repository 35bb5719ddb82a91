"""Validation rules at entry, listed per unit and period, and notices up the hierarchy."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.catalog.form_models import Reminder, ValidationRule
from dieuhanh.indicators.catalog.periods import parse_period
from dieuhanh.indicators.reporting.validation import after_completion, holds, run_rules
from tests.conftest import LOC_THANH
from tests.indicators import builders as b

JANUARY = parse_period("202601")


def rule(
    session: Session,
    code: str,
    left: str,
    operator: str,
    right: str,
    *,
    importance: str = "medium",
    missing: str = "skip_if_any_missing",
    form_id: int | None = None,
) -> None:
    session.add(
        ValidationRule(
            code=code,
            name=f"Quy tắc {code}",
            left=left,
            operator=operator,
            right=right,
            missing_value_strategy=missing,
            importance=importance,
            form_id=form_id,
        )
    )


@pytest.fixture
def units(runtime: Runtime) -> dict[str, str]:
    with runtime.sessions() as session:
        a, b_unit = b.communes(session, 2)
        c = b.unit(session, LOC_THANH)
        e = {
            code: b.element(session, code, options=["ONLINE", "DIRECT"] if code == "HS_XL" else [])
            for code in ("HS_XL", "HS_QH", "HS_DUNG_HAN", "GHI_A", "GHI_B", "KHAC_1", "KHAC_2")
        }
        other = b.element(session, "NGOAI_BIEU")
        report = b.form(session, "TK01", list(e.values()), [a, b_unit, c])
        rule(session, "QH_LE_XL", "#{HS_QH}", "<=", "#{HS_XL}", importance="high")
        rule(
            session,
            "TONG",
            "#{HS_DUNG_HAN} + #{HS_QH}",
            "==",
            "#{HS_XL}",
            missing="never_skip",
            form_id=report.id,
        )
        rule(session, "CAP", "#{GHI_A}", "compulsory_pair", "#{GHI_B}", importance="low")
        rule(session, "LOAI_TRU", "#{KHAC_1}", "exclusive_pair", "#{KHAC_2}")
        rule(session, "KHAC_BIEU", "#{NGOAI_BIEU}", ">", "1000")  # not about TK01's elements
        for element, where, value, option in (
            ("HS_XL", a, 30, "ONLINE"),
            ("HS_XL", a, 10, "DIRECT"),
            ("HS_QH", a, 50, ""),
            ("GHI_A", a, 1, ""),
            ("HS_XL", b_unit, 60, "ONLINE"),
            ("HS_QH", b_unit, 18, ""),
            ("HS_DUNG_HAN", b_unit, 42, ""),
            ("KHAC_1", b_unit, 1, ""),
            ("KHAC_2", b_unit, 2, ""),
            ("HS_XL", c, 5, "ONLINE"),
            ("HS_QH", c, 9, ""),
            ("HS_DUNG_HAN", c, 0, ""),
        ):
            b.put(session, e[element], where, "202601", value, option)
        b.put(session, other, a, "202601", 1)
        session.commit()
        return {"A": a.code, "B": b_unit.code, "C": c.code}


def broken(runtime: Runtime, code: str, **options: bool) -> dict[str, tuple[object, object]]:
    with runtime.sessions() as session:
        found = run_rules(
            session, b.form_by_code(session, "TK01"), b.unit(session, code), JANUARY, **options
        )
    return {v.rule: (v.left_value, v.right_value) for v in found}


def test_rules_at_entry_use_the_units_own_values(runtime: Runtime, units) -> None:
    # A: 50 overdue of 40 processed (high); TONG never skips: 0 + 50 ≠ 40; GHI_A without GHI_B.
    assert broken(runtime, units["A"]) == {
        "QH_LE_XL": (50.0, 40.0),
        "TONG": (50.0, 40.0),
        "CAP": (1.0, None),
    }
    # B: 18 ≤ 60, 42 + 18 = 60; but KHAC_1 and KHAC_2 are both filled.
    assert broken(runtime, units["B"]) == {"LOAI_TRU": (1.0, 2.0)}
    # C: 9 > 5 processed (high); 0 + 9 ≠ 5.
    assert broken(runtime, units["C"]) == {"QH_LE_XL": (9.0, 5.0), "TONG": (9.0, 5.0)}


def test_missing_values_follow_the_rules_strategy(runtime: Runtime, units) -> None:
    # February is empty: QH_LE_XL skips (any missing), TONG never skips and 0 + 0 == 0 holds,
    # the pairs see no data on either side.
    with runtime.sessions() as session:
        found = run_rules(
            session,
            b.form_by_code(session, "TK01"),
            b.unit(session, units["A"]),
            parse_period("202602"),
        )
        assert found == []
        rule(
            session, "TAT_CA", "#{HS_DUNG_HAN} + 1", ">", "#{HS_XL}", missing="skip_if_all_missing"
        )
        session.commit()
    # A has HS_XL 40 and no HS_DUNG_HAN: not all missing, so 0 + 1 > 40 is checked and broken.
    assert broken(runtime, units["A"])["TAT_CA"] == (1.0, 40.0)


def test_province_check_rolls_up(runtime: Runtime, units) -> None:
    # Totals of A, B and C: overdue 77 ≤ processed 105; on time 42 + overdue 77 = 119 ≠ 105;
    # B's KHAC_1 and KHAC_2 both count; A's GHI_A still has no GHI_B anywhere below.
    assert broken(runtime, "75", roll_up=True) == {
        "TONG": (119.0, 105.0),
        "LOAI_TRU": (1.0, 2.0),
        "CAP": (1.0, None),
    }


def test_comparisons_allow_float_noise() -> None:
    assert holds("==", 0.1 + 0.2, 0.3) and not holds("!=", 0.1 + 0.2, 0.3)
    assert holds("<=", 0.1 + 0.2, 0.3) and holds(">=", 0.1 + 0.2, 0.3)
    assert not holds("<", 0.1 + 0.2, 0.3) and not holds(">", 0.3, 0.1 + 0.2)
    assert holds(">", 2, 1) and holds("<", 1, 2) and not holds("==", 1, 1.001)


def test_high_violations_notify_the_parent_once_per_unit(runtime: Runtime, units) -> None:
    with runtime.sessions() as session:
        report = b.form_by_code(session, "TK01")
        for code in (units["A"], units["B"], units["C"], units["A"]):
            after_completion(session, report, b.unit(session, code), JANUARY)
        session.commit()
        notices = session.scalars(select(Reminder)).all()
        province = b.unit(session, "75")
        a_name, c_name = b.unit(session, units["A"]).name, b.unit(session, units["C"]).name
    assert [(n.unit_id, n.kind, n.period_code) for n in notices] == [
        (province.id, "validation_violation", "202601")
    ]
    lines = notices[0].message.splitlines()
    # A heading, then one line per unit with a high violation (B has none); A's twice-run
    # completion replaced its line instead of adding one.
    assert len(lines) == 3
    assert lines[1].startswith(c_name) and lines[2].startswith(a_name)
    assert "Quy tắc QH_LE_XL (50 <= 40 không thỏa)" in lines[2]


def test_validation_endpoints(client: TestClient, auth, units) -> None:
    entry = client.get(
        "/api/v1/forms/TK01/validation",
        params={"unit": units["C"], "period": "202601"},
        headers=auth("commune"),
    )
    assert entry.status_code == 200, entry.text
    body = entry.json()
    assert (body["form"], body["unit"], body["period"]) == ("TK01", LOC_THANH, "202601")
    assert {
        (v["rule"], v["importance"], v["leftValue"], v["rightValue"]) for v in body["violations"]
    } == {
        ("QH_LE_XL", "high", 9.0, 5.0),
        ("TONG", "medium", 9.0, 5.0),
    }
    assert (
        client.get(
            "/api/v1/forms/TK01/validation",
            params={"unit": units["A"], "period": "202601"},
            headers=auth("commune"),
        ).status_code
        == 403
    )
    wrong = client.get(
        "/api/v1/forms/TK01/validation",
        params={"unit": units["A"], "period": "2026Q1"},
        headers=auth("viewer"),
    )
    assert wrong.status_code == 422 and "2026Q1" in wrong.json()["error"]["message"]
    listed = client.get(
        "/api/v1/validationViolations",
        params={"form": "TK01", "period": "2026Q1"},
        headers=auth("viewer"),
    ).json()
    assert listed["periods"] == ["202601", "202602", "202603"]
    assert sorted((v["unit"], v["rule"]) for v in listed["violations"]) == sorted(
        [
            (units["A"], "QH_LE_XL"),
            (units["A"], "TONG"),
            (units["A"], "CAP"),
            (units["B"], "LOAI_TRU"),
            (units["C"], "QH_LE_XL"),
            (units["C"], "TONG"),
        ]
    )
    high = client.get(
        "/api/v1/validationViolations",
        params={"form": "TK01", "period": "202601", "importance": "high"},
        headers=auth("commune"),
    ).json()
    assert [(v["unit"], v["rule"]) for v in high["violations"]] == [(LOC_THANH, "QH_LE_XL")]


def test_completing_through_the_api_tells_the_parent(
    client: TestClient, auth, units, runtime: Runtime
) -> None:
    done = client.post(
        "/api/v1/forms/TK01/completions",
        json={"unit": units["C"], "period": "202601"},
        headers=auth("commune"),
    )
    assert done.status_code == 200, done.text
    with runtime.sessions() as session:
        notices = session.scalars(select(Reminder)).all()
        province = b.unit(session, "75")
        c_name = b.unit(session, units["C"]).name
    assert [(n.unit_id, n.kind) for n in notices] == [(province.id, "validation_violation")]
    assert notices[0].message.splitlines()[1].startswith(c_name)
