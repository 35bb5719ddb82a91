"""The shape of the second held-out question set (``heldout_questions.jsonl``, split "test2",
issue 14): every line a labelled question whose expected query the product could run — units of
the demo's province, indicators, elements and report forms of the demo's catalogue, valid period
codes, known states. It checks the labels only; the reader is never called, so running this test
tells nothing about how the assistant does on these questions."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from datetime import date
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import select

from dieuhanh.assistant.query import Operation, Query
from dieuhanh.cameras.models import State as CameraState
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.status import STATUS_PROVIDERS, StatusProvider
from dieuhanh.indicators.catalog.form_models import ReportForm
from dieuhanh.indicators.catalog.models import DataElement, Indicator
from dieuhanh.indicators.catalog.periods import PeriodType, parse_period
from dieuhanh.units.models import Unit

FILE = "heldout_questions.jsonl"
FIELDS = {"question", "expected", "split", "kind", "style"}
STYLES = {"plain", "no_diacritics", "typo", "lower"}
PROVINCE = "75"
TODAY = date(2026, 4, 15)  # what the set's relative periods ("tháng trước", …) were written for
# The five pre-2025 names in the set (underthesea's merger table) and the unit each merged into.
FORMER = {"gia ray": "26425", "ma da": "26170", "long giao": "26341", "bau sen": "26104",
          "suoi nho": "26428"}  # fmt: skip
SINGLE_UNIT = {Operation.VALUE, Operation.COMPARE_LAST_YEAR, Operation.COMPARE_PREVIOUS,
               Operation.TREND, Operation.STATUS}  # fmt: skip


@cache
def rows() -> list[dict[str, Any]]:
    text = resources.files("dieuhanh.assistant").joinpath(FILE).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def query(row: dict[str, Any]) -> Query:
    return Query.from_json(row["expected"])


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").casefold()


def test_every_line_is_a_labelled_question() -> None:
    for row in rows():
        assert set(row) == FIELDS, row
        assert row["split"] == "test2", row
        assert row["style"] in STYLES, row
        assert row["question"] == row["question"].strip() != "", row
        # The expected query is complete and in the shape Query.key() compares with.
        assert query(row).key() == row["expected"], row
        assert row["kind"] == row["expected"]["operation"], row
        if row["style"] == "no_diacritics":
            assert fold(row["question"]) == row["question"].casefold(), row


def test_each_operation_has_the_parts_it_needs() -> None:
    for row in rows():
        q = query(row)
        if q.operation in SINGLE_UNIT:
            assert len(q.units) == 1 and q.level is None, row
        if q.operation is Operation.RANK:
            assert not q.units and q.level in {"commune", "department"}, row
            assert q.order is not None and q.limit and q.limit > 0, row
        if q.operation is Operation.REPORTING:
            assert not q.units and q.level in {"commune", "department"}, row
        if q.operation in {Operation.STATUS, Operation.BRIEFING}:
            assert q.indicator is None and not q.periods, row
        else:
            assert q.indicator and q.periods and q.subject is None and q.state is None, row
        if q.operation is Operation.BRIEFING:
            assert q.units == (PROVINCE,), row


def test_periods_are_valid_and_not_after_today() -> None:
    for row in rows():
        q = query(row)
        periods = [parse_period(code) for code in q.periods]
        assert all(p.start <= TODAY for p in periods), row
        if q.operation is Operation.TREND:
            assert all(p.type is PeriodType.MONTHLY for p in periods), row
            assert all(a.next() == b for a, b in pairwise(periods)), row
        elif q.periods:
            assert len(periods) == 1, row


def test_the_set_is_fresh_and_varied() -> None:
    questions = [fold(row["question"]) for row in rows()]
    assert len(questions) >= 160
    assert len(set(questions)) == len(questions)
    labelled = resources.files("dieuhanh.assistant").joinpath("labelled_questions.jsonl")
    lines = labelled.read_text(encoding="utf-8").splitlines()
    earlier = {fold(json.loads(line)["question"]) for line in lines if line}
    assert not earlier & set(questions)
    units = Counter(unit for row in rows() for unit in query(row).units)
    assert len(units) >= 30
    assert {row["kind"] for row in rows()} == {op.value for op in Operation}


def test_labels_name_what_the_demo_has(demo_figures: Runtime) -> None:
    # The assistant tests' demo database: its unit tree, catalogue, forms and status providers.
    with demo_figures.sessions() as session:
        province = session.scalars(select(Unit.id).where(Unit.code == PROVINCE)).one()
        units = set(session.scalars(select(Unit.code).where(Unit.parent_id == province)))
        indicators = set(session.scalars(select(Indicator.code)))
        elements = set(session.scalars(select(DataElement.code)))
        forms = set(session.scalars(select(ReportForm.code)))
    units.add(PROVINCE)
    states = {p.subject: set(p.states) for p in demo_figures.extensions.of(STATUS_PROVIDERS)
              if isinstance(p, StatusProvider)}  # fmt: skip
    states["cameras"] = {s.value for s in CameraState}
    for row in rows():
        q = query(row)
        assert set(q.units) <= units, row
        if q.operation is Operation.REPORTING:
            assert q.indicator in forms, row
        elif q.is_element:
            assert q.code in elements, row
        elif q.indicator is not None:
            assert q.indicator in indicators, row
        if q.operation is Operation.STATUS:
            assert q.subject in states and q.state in states[q.subject], row


@pytest.mark.parametrize(("former", "today"), FORMER.items())
def test_a_former_name_is_labelled_with_todays_unit(former: str, today: str) -> None:
    [row] = [row for row in rows() if former in fold(row["question"])]
    assert query(row).units == (today,)
