"""Periods: DHIS2 codes, arithmetic across year boundaries, splitting, labels, relative periods."""

from __future__ import annotations

import pickle
from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dieuhanh.indicators.catalog.periods import (
    RELATIVE_PERIODS,
    Period,
    PeriodError,
    PeriodType,
    parse_period,
    period_of,
    periods_between,
    relative_periods,
    resolve_periods,
    weeks_in_year,
)

P = parse_period
D, W, M = PeriodType.DAILY, PeriodType.WEEKLY, PeriodType.MONTHLY
Q, S, Y = PeriodType.QUARTERLY, PeriodType.SIXMONTHLY, PeriodType.YEARLY


def codes(periods: list[Period]) -> list[str]:
    return [p.code for p in periods]


@pytest.mark.parametrize(
    ("code", "type", "start", "end"),
    [
        ("20260315", D, date(2026, 3, 15), date(2026, 3, 15)),
        ("2026W10", W, date(2026, 3, 2), date(2026, 3, 8)),
        ("202603", M, date(2026, 3, 1), date(2026, 3, 31)),
        ("202602", M, date(2026, 2, 1), date(2026, 2, 28)),
        ("202402", M, date(2024, 2, 1), date(2024, 2, 29)),
        ("2026Q1", Q, date(2026, 1, 1), date(2026, 3, 31)),
        ("2026Q4", Q, date(2026, 10, 1), date(2026, 12, 31)),
        ("2026S1", S, date(2026, 1, 1), date(2026, 6, 30)),
        ("2026S2", S, date(2026, 7, 1), date(2026, 12, 31)),
        ("2026", Y, date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_codes_parse_to_their_dates_and_back(
    code: str, type: PeriodType, start: date, end: date
) -> None:
    period = P(code)
    assert (period.type, period.start, period.end) == (type, start, end)
    assert period.code == code
    assert str(period) == code
    assert period.days == (end - start).days + 1


def test_iso_weeks_at_year_boundaries() -> None:
    assert P("2026W01").start == date(2025, 12, 29)
    assert P("2026W1") == P("2026W01")
    assert P("2026W01").code == "2026W1"  # DHIS2 writes week numbers without a leading zero
    assert P("2020W53").start == date(2020, 12, 28)
    assert P("2020W53").end == date(2021, 1, 3)
    assert P("2020W53").next().code == "2021W1"
    assert P("2021W1").previous().code == "2020W53"
    assert period_of(W, date(2021, 1, 1)).code == "2020W53"
    assert period_of(W, date(2025, 12, 31)).code == "2026W1"
    assert [weeks_in_year(y) for y in (2015, 2020, 2021, 2026)] == [53, 53, 52, 53]
    assert P("2026W53").end == date(2027, 1, 3)


def test_whitespace_is_trimmed() -> None:
    assert P("  202603\n") == P("202603")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("202613", "month 13 does not exist"),
        ("202600", "month 0 does not exist"),
        ("2026Q5", "quarter 5 does not exist"),
        ("2026Q0", "quarter 0 does not exist"),
        ("2026S3", "half-year 3 does not exist"),
        ("20260230", "day 30 does not exist: 02/2026 has 28 days"),
        ("20250229", "day 29 does not exist: 02/2025 has 28 days"),
        ("20260431", "day 31 does not exist"),
        ("2026W54", "week 54 does not exist"),
        ("2026W0", "week 0 does not exist"),
        ("2026W001", "week 001 does not exist"),
        ("2021W53", "2021 has 52 weeks"),
        ("0000", "year 0 does not exist"),
        ("abc", "not a period code"),
        ("2026-03", "not a period code"),
        ("2026w10", "not a period code"),
        ("2026 03", "not a period code"),
        ("26", "not a period code"),
        ("٢٠٢٦", "not a period code"),  # Arabic-Indic digits are not ASCII digits
        ("2026April", "not a period code"),
    ],
)
def test_malformed_codes_are_named_in_the_error(code: str, reason: str) -> None:
    with pytest.raises(PeriodError) as error:
        P(code)
    assert str(error.value).startswith(f"{code}: ")
    assert reason in str(error.value)
    assert error.value.code == code


@pytest.mark.parametrize("code", ["", "   "])
def test_empty_code_is_an_error(code: str) -> None:
    with pytest.raises(PeriodError, match="empty period code") as error:
        P(code)
    assert str(error.value).startswith(repr(code))


def test_period_errors_survive_pickling() -> None:
    copy = pickle.loads(pickle.dumps(PeriodError("202613", "month 13 does not exist")))
    assert (copy.code, copy.reason, str(copy)) == (
        "202613",
        "month 13 does not exist",
        "202613: month 13 does not exist",
    )


def test_a_period_must_be_a_real_calendar_period() -> None:
    with pytest.raises(PeriodError, match="not a monthly period"):
        Period(date(2026, 3, 2), date(2026, 3, 31), M)
    assert Period(date(2026, 3, 1), date(2026, 3, 31), M) == P("202603")


@pytest.mark.parametrize(
    ("code", "n", "expected"),
    [
        ("20261231", 1, "20270101"),
        ("20240228", 1, "20240229"),
        ("20260301", -1, "20260228"),
        ("2026W52", 2, "2027W1"),
        ("2026W1", -1, "2025W52"),
        ("202612", 1, "202701"),
        ("202601", -1, "202512"),
        ("202603", -12, "202503"),
        ("202603", -27, "202312"),
        ("202603", 25, "202804"),
        ("2026Q1", -1, "2025Q4"),
        ("2026Q4", 5, "2028Q1"),
        ("2026S1", -1, "2025S2"),
        ("2026S2", 3, "2028S1"),
        ("2026", -10, "2016"),
        ("202603", 0, "202603"),
    ],
)
def test_offsets_cross_years(code: str, n: int, expected: str) -> None:
    assert P(code).offset(n).code == expected


def test_next_and_previous() -> None:
    assert P("202612").next() == P("202701")
    assert P("2026Q1").previous() == P("2025Q4")


def test_offset_beyond_year_9999_is_an_error() -> None:
    with pytest.raises(PeriodError, match="9999"):
        P("9999").next()
    with pytest.raises(PeriodError, match="9999"):
        P("99991231").next()
    with pytest.raises(PeriodError, match="9999"):
        P("0001").previous()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("202603", "202503"),
        ("2026Q1", "2025Q1"),
        ("2026S2", "2025S2"),
        ("2026", "2025"),
        ("2026W10", "2025W10"),
        ("2021W1", "2020W1"),
        ("2026W53", "2025W52"),  # 2025 has no week 53: the last week stands in for it
        ("2021W52", "2020W52"),
        ("20260315", "20250315"),
        ("20240229", "20230228"),
        ("20250301", "20240301"),
    ],
)
def test_same_period_last_year(code: str, expected: str) -> None:
    assert P(code).same_period_last_year().code == expected


def test_contains() -> None:
    assert P("2026Q1").contains(P("202603"))
    assert P("2026Q1").contains(P("2026Q1"))
    assert not P("2026Q1").contains(P("202604"))
    assert not P("202603").contains(P("2026Q1"))
    assert P("2026").contains(P("20261231"))
    assert not P("2026").contains(P("2026W1"))  # it starts on 29/12/2025
    assert P("2026W10").contains(P("20260308"))


def test_split_into_finer_periods() -> None:
    assert codes(P("2026Q1").split(M)) == ["202601", "202602", "202603"]
    assert codes(P("2026").split(Q)) == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    assert codes(P("2026").split(S)) == ["2026S1", "2026S2"]
    assert codes(P("2026S2").split(Q)) == ["2026Q3", "2026Q4"]
    assert len(P("2024").split(D)) == 366
    assert codes(P("202602").split(D))[-1] == "20260228"
    assert P("202603").split(M) == [P("202603")]
    assert len(P("2026W10").split(D)) == 7


def test_split_into_weeks_takes_the_weeks_that_start_inside() -> None:
    # 2026W1 starts on Monday 29/12/2025, so it belongs to December, not January.
    assert codes(P("202601").split(W)) == ["2026W2", "2026W3", "2026W4", "2026W5"]
    assert codes(P("202512").split(W))[-1] == "2026W1"
    assert codes(P("202603").split(W)) == ["2026W10", "2026W11", "2026W12", "2026W13", "2026W14"]
    weeks_2026 = P("2026").split(W)
    assert (weeks_2026[0].code, weeks_2026[-1].code, len(weeks_2026)) == ("2026W2", "2026W53", 52)


def test_split_into_a_coarser_type_is_an_error() -> None:
    with pytest.raises(PeriodError, match="202603: cannot split a monthly period into quarterly"):
        P("202603").split(Q)
    with pytest.raises(PeriodError):
        P("2026W10").split(M)


def test_parent() -> None:
    assert P("202603").parent(Q) == P("2026Q1")
    assert P("202607").parent(S) == P("2026S2")
    assert P("202612").parent(Y) == P("2026")
    assert P("20260315").parent(W) == P("2026W11")
    assert P("2026W1").parent(M) == P("202512")  # the month of its Monday
    assert P("2026W1").parent(Y) == P("2025")
    assert P("2026Q2").parent(Q) == P("2026Q2")
    with pytest.raises(PeriodError, match="a monthly period cannot contain a quarterly period"):
        P("2026Q1").parent(M)


@pytest.mark.parametrize(
    ("code", "vi", "en"),
    [
        ("202603", "Tháng 03/2026", "March 2026"),
        ("202612", "Tháng 12/2026", "December 2026"),
        ("2026Q1", "Quý I/2026", "Q1 2026"),
        ("2026Q4", "Quý IV/2026", "Q4 2026"),
        ("2026S1", "6 tháng đầu năm 2026", "H1 2026"),
        ("2026S2", "6 tháng cuối năm 2026", "H2 2026"),
        ("2026", "Năm 2026", "2026"),
        ("2026W10", "Tuần 10/2026", "Week 10 2026"),
        ("2026W1", "Tuần 1/2026", "Week 1 2026"),
        ("20260315", "15/03/2026", "15/03/2026"),
    ],
)
def test_labels(code: str, vi: str, en: str) -> None:
    assert P(code).label() == vi
    assert P(code).label("vi") == vi
    assert P(code).label(lang="en") == en


def test_label_in_an_unknown_language_is_an_error() -> None:
    with pytest.raises(ValueError, match="'fr'"):
        P("202603").label("fr")


def test_ordering_is_by_start() -> None:
    assert sorted([P("202603"), P("202512"), P("2026Q1"), P("202601")]) == [
        P("202512"),
        P("202601"),
        P("2026Q1"),
        P("202603"),
    ]
    assert P("202512") < P("202601")


def test_period_of_each_type() -> None:
    day = date(2026, 8, 19)
    assert [period_of(t, day).code for t in PeriodType] == [
        "20260819",
        "2026W34",
        "202608",
        "2026Q3",
        "2026S2",
        "2026",
    ]


def test_periods_between_covers_every_overlapping_period() -> None:
    assert codes(periods_between(M, date(2025, 11, 15), date(2026, 2, 1))) == [
        "202511",
        "202512",
        "202601",
        "202602",
    ]
    assert codes(periods_between(W, date(2025, 12, 31), date(2026, 1, 5))) == ["2026W1", "2026W2"]
    assert codes(periods_between(Q, date(2026, 1, 1), date(2026, 1, 1))) == ["2026Q1"]
    assert periods_between(M, date(2026, 2, 1), date(2026, 1, 1)) == []


TODAY = date(2026, 3, 15)  # a Sunday, in 2026W11


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("TODAY", ["20260315"]),
        ("YESTERDAY", ["20260314"]),
        ("THIS_WEEK", ["2026W11"]),
        ("LAST_WEEK", ["2026W10"]),
        ("LAST_4_WEEKS", ["2026W7", "2026W8", "2026W9", "2026W10"]),
        ("THIS_MONTH", ["202603"]),
        ("LAST_MONTH", ["202602"]),
        ("LAST_3_MONTHS", ["202512", "202601", "202602"]),
        ("LAST_6_MONTHS", ["202509", "202510", "202511", "202512", "202601", "202602"]),
        ("MONTHS_LAST_YEAR", [f"2025{m:02d}" for m in range(1, 13)]),
        ("MONTHS_THIS_YEAR", [f"2026{m:02d}" for m in range(1, 13)]),
        ("YEAR_TO_DATE", ["202601", "202602", "202603"]),
        ("SAME_MONTH_LAST_YEAR", ["202503"]),
        ("THIS_QUARTER", ["2026Q1"]),
        ("LAST_QUARTER", ["2025Q4"]),
        ("LAST_4_QUARTERS", ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]),
        ("QUARTERS_THIS_YEAR", ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]),
        ("QUARTERS_LAST_YEAR", ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]),
        ("THIS_SIX_MONTH", ["2026S1"]),
        ("LAST_SIX_MONTH", ["2025S2"]),
        ("LAST_2_SIXMONTHS", ["2025S1", "2025S2"]),
        ("THIS_YEAR", ["2026"]),
        ("LAST_YEAR", ["2025"]),
        ("LAST_5_YEARS", ["2021", "2022", "2023", "2024", "2025"]),
        ("LAST_7_DAYS", [f"202603{d:02d}" for d in range(8, 15)]),
    ],
)
def test_relative_periods_on_a_fixed_day(name: str, expected: list[str]) -> None:
    assert codes(relative_periods(name, TODAY)) == expected


def test_relative_periods_at_the_start_of_a_year() -> None:
    new_year = date(2026, 1, 1)  # a Thursday, in 2026W1
    assert codes(relative_periods("LAST_12_MONTHS", new_year)) == [
        f"2025{m:02d}" for m in range(1, 13)
    ]
    assert codes(relative_periods("YESTERDAY", new_year)) == ["20251231"]
    assert codes(relative_periods("THIS_WEEK", new_year)) == ["2026W1"]
    assert codes(relative_periods("LAST_WEEK", new_year)) == ["2025W52"]
    assert codes(relative_periods("LAST_MONTH", new_year)) == ["202512"]
    assert codes(relative_periods("LAST_QUARTER", new_year)) == ["2025Q4"]
    assert codes(relative_periods("YEAR_TO_DATE", new_year)) == ["202601"]
    assert codes(relative_periods("YEAR_TO_DATE", date(2026, 12, 31)))[-1] == "202612"
    assert codes(relative_periods("SAME_MONTH_LAST_YEAR", date(2024, 2, 29))) == ["202302"]


def test_relative_period_names_are_case_insensitive() -> None:
    assert relative_periods("last_month", TODAY) == relative_periods("LAST_MONTH", TODAY)
    assert relative_periods(" This_Year ", TODAY) == [P("2026")]


def test_every_relative_period_is_sorted_and_of_one_type() -> None:
    for name in RELATIVE_PERIODS:
        periods = relative_periods(name, TODAY)
        assert periods == sorted(periods), name
        assert len({p.type for p in periods}) == 1, name


def test_unknown_relative_period_lists_the_valid_names() -> None:
    with pytest.raises(PeriodError) as error:
        relative_periods("LAST_13_MONTHS", TODAY)
    message = str(error.value)
    assert message.startswith("LAST_13_MONTHS: unknown relative period")
    assert "LAST_12_MONTHS" in message
    assert "YEAR_TO_DATE" in message


def test_resolve_periods_merges_codes_and_names() -> None:
    periods = resolve_periods("202601;202602; LAST_3_MONTHS ;2026Q1;", TODAY)
    assert codes(periods) == ["202512", "202601", "2026Q1", "202602"]


def test_resolve_periods_reports_the_bad_part() -> None:
    with pytest.raises(PeriodError, match=r"^202613: month 13"):
        resolve_periods("202601;202613", TODAY)
    with pytest.raises(PeriodError, match=r"^NEXT_MONTH: unknown relative period"):
        resolve_periods("202601;NEXT_MONTH", TODAY)
    with pytest.raises(PeriodError, match="no period given"):
        resolve_periods(" ; ", TODAY)


# --- properties ------------------------------------------------------------------------------

periods = st.builds(
    period_of, st.sampled_from(list(PeriodType)), st.dates(date(1900, 1, 1), date(2200, 12, 31))
)


@settings(max_examples=400)
@given(periods)
def test_every_code_round_trips(period: Period) -> None:
    assert parse_period(period.code) == period
    assert parse_period(f" {period.code} ") == period
    assert period.contains(period)
    assert period.start <= period.end


@settings(max_examples=400)
@given(periods, st.integers(-600, 600))
def test_offset_is_invertible_and_keeps_order(period: Period, n: int) -> None:
    moved = period.offset(n)
    assert moved.type is period.type
    assert moved.offset(-n) == period
    assert (moved > period) == (n > 0)
    assert (moved == period) == (n == 0)


@settings(max_examples=200)
@given(periods)
def test_next_starts_the_day_after_the_end(period: Period) -> None:
    assert period.next().start == period.end + timedelta(days=1)
    assert period.next().previous() == period


@settings(max_examples=300)
@given(periods, st.sampled_from(list(PeriodType)))
def test_split_and_parent_agree(period: Period, other: PeriodType) -> None:
    if other.rank <= period.type.rank:
        parts = period.split(other)
        assert parts
        assert all(p.type is other and period.start <= p.start <= period.end for p in parts)
        assert all(p.parent(period.type) == period for p in parts)
        if other is not PeriodType.WEEKLY:
            # Only weeks straddle boundaries; every other split tiles the period without gaps.
            assert parts[0].start == period.start
            assert parts[-1].end == period.end
            assert all(a.next() == b for a, b in pairwise(parts))
    else:
        parent = period.parent(other)
        assert parent.type is other
        assert parent.start <= period.start <= parent.end
        assert period in parent.split(period.type)
        if period.type is not PeriodType.WEEKLY:
            assert parent.contains(period)
