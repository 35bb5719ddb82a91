"""A figure per unit and period, from stored values or from a dataset's records.

Two uses: **aggregates** turn a dataset into data values for the indicator engine (overdue
dossiers per commune per month = count where ``ngay_hoan_thanh > han_xu_ly``), and
**reconciliation** lines up two figures of the same thing from two sources.

    {element: DOSSIERS_RECEIVED}                          # stored values, options summed
    {dataset: igate_dossiers, date_field: ngay_tiep_nhan,  # records of a dataset, by the unit
     measure: count, where: [{field: ngay_hoan_thanh,      # each record was matched to and the
     op: ">", other_field: han_xu_ly}]}                    # period its date falls in

Conditions compare a field with a ``value`` or with an ``other_field``; dates and numbers compare
as such, else as text. A dataset is read in one pass (its records' JSON is filtered in Python):
fine for the hundreds of thousands of records of a province's datasets; a larger one would need
the conditions in SQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dieuhanh.datahub.mapping import RecordProblem, parse_day, pick
from dieuhanh.datahub.models import DatasetRecord
from dieuhanh.indicators.catalog.models import DataElement, DataValue, in_periods
from dieuhanh.indicators.catalog.periods import Period, PeriodType, period_of

Cells = dict[tuple[int, str], float]  # (unit id, period code) → value

OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "empty", "not_empty")


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str
    op: Literal["=", "!=", ">", ">=", "<", "<=", "empty", "not_empty"]
    value: Any = None
    other_field: str | None = None

    def holds(self, record: Any) -> bool:
        mine = _field(record, self.field)
        if self.op == "empty":
            return mine in (None, "")
        if self.op == "not_empty":
            return mine not in (None, "")
        other = _field(record, self.other_field) if self.other_field else self.value
        if mine in (None, "") or other in (None, ""):
            return False
        left, right = _comparable(mine), _comparable(other)
        if type(left) is not type(right):
            left, right = str(mine), str(other)
        outcome: bool = {
            "=": left == right, "!=": left != right, ">": left > right,
            ">=": left >= right, "<": left < right, "<=": left <= right,
        }[self.op]  # fmt: skip
        return outcome


class Figure(BaseModel):
    """Exactly one of ``element`` or ``dataset``."""

    model_config = ConfigDict(extra="forbid")

    element: str | None = None
    option: str | None = None  # with element: one option only
    dataset: str | None = None
    date_field: str | None = None
    period_type: PeriodType = PeriodType.MONTHLY
    measure: str = Field(default="count", description="count, or sum:<field>")
    where: list[Condition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_kind(self) -> Figure:
        if (self.element is None) == (self.dataset is None):
            raise ValueError("give exactly one of element or dataset")
        if self.dataset is not None and not self.date_field:
            raise ValueError("a dataset figure needs date_field (which period a record is in)")
        if not (self.measure == "count" or (self.measure.startswith("sum:") and self.summed)):
            raise ValueError("measure: count, or sum:<field>")
        return self

    @property
    def summed(self) -> str | None:
        """The field a ``sum:<field>`` measure adds up."""
        return (self.measure[4:] or None) if self.measure.startswith("sum:") else None

    def named_fields(self) -> list[tuple[str, str]]:
        """Every dataset field the figure reads, with its key in the declaration."""
        named = [("date_field", self.date_field), ("measure", self.summed)]
        for index, condition in enumerate(self.where):
            named.append((f"where[{index}].field", condition.field))
            named.append((f"where[{index}].other_field", condition.other_field))
        return [(key, name) for key, name in named if name]

    def describe(self) -> str:
        if self.element:
            return self.element + (f".{self.option}" if self.option else "")
        return f"{self.dataset} ({self.measure})"


def compute(session: Session, figure: Figure, periods: Iterable[Period]) -> Cells:
    wanted = {period.code: period for period in periods}
    if figure.element is not None:
        return _element_cells(session, figure, list(wanted.values()))
    return _dataset_cells(session, figure, wanted)


def _element_cells(session: Session, figure: Figure, periods: list[Period]) -> Cells:
    element_id = session.scalar(select(DataElement.id).where(DataElement.code == figure.element))
    if element_id is None:
        return {}
    query = (
        select(DataValue.unit_id, DataValue.period_code, func.sum(DataValue.numeric))
        .where(DataValue.element_id == element_id, in_periods(periods))
        .group_by(DataValue.unit_id, DataValue.period_code)
    )
    if figure.option:
        query = query.where(DataValue.option == figure.option)
    return {(unit, period): float(total or 0) for unit, period, total in session.execute(query)}


def _dataset_cells(session: Session, figure: Figure, wanted: dict[str, Period]) -> Cells:
    assert figure.dataset is not None and figure.date_field is not None
    cells: defaultdict[tuple[int, str], float] = defaultdict(float)
    summed = figure.summed
    rows = session.execute(
        select(DatasetRecord.unit_id, DatasetRecord.data).where(
            DatasetRecord.dataset == figure.dataset, DatasetRecord.unit_id.is_not(None)
        )
    )
    for unit_id, data in rows:
        day = _date(_field(data, figure.date_field))
        if day is None:
            continue
        code = period_of(figure.period_type, day).code
        if code not in wanted or not all(condition.holds(data) for condition in figure.where):
            continue
        if summed is None:
            cells[(unit_id, code)] += 1
        else:
            number = _number(_field(data, summed))
            if number is not None:
                cells[(unit_id, code)] += number
    return dict(cells)


def _field(record: Any, path: str | None) -> Any:
    if path is None:
        return None
    try:
        return pick(record, path)
    except RecordProblem:
        return None


def _date(value: Any) -> date | None:
    return None if value in (None, "") else parse_day(str(value).strip())


def _number(value: Any) -> float | None:
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        return None


def _comparable(value: Any) -> Any:
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    number = _number(text)
    if number is not None:
        return number
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return text
