"""Validation rules: left side, operator, right side over #{…} expressions (issue 5, part 5).

At entry a rule checks the unit's OWN values for the period (a commune's figures, not its
subtree's); ``roll_up=True`` checks the subtree's totals, for province-level reviews. Values come
from the same roll-up as analytics, so a rule and a dashboard never disagree about a figure.

Missing values (DHIS2's strategies, over the data items of both sides together; constants are not
data): ``skip_if_any_missing`` (the default) skips the rule when any item has no value,
``skip_if_all_missing`` only when none has, ``never_skip`` counts missing items as 0. The pair
operators look at presence instead: ``compulsory_pair`` is broken when exactly one side has data,
``exclusive_pair`` when both do. Comparisons allow for float noise (1e-9), so "parts == total"
holds for 0.1 + 0.2 and 0.3.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dieuhanh.core.db.base import utcnow
from dieuhanh.indicators.catalog.expression import Expression, Item
from dieuhanh.indicators.catalog.form_models import (
    Importance,
    MissingValueStrategy,
    Operator,
    Reminder,
    ReminderKind,
    ReportForm,
    ValidationRule,
)
from dieuhanh.indicators.catalog.models import DataElement
from dieuhanh.indicators.catalog.periods import Period, PeriodType
from dieuhanh.indicators.values.cells import CellValues, Evaluator
from dieuhanh.indicators.values.plan import NO_SHIFT, parse_formula, plan_expressions
from dieuhanh.indicators.values.rollup import TreeUnit, load_tree
from dieuhanh.units.models import Unit

TOLERANCE = 1e-9
Resolve = Callable[[Item], float | None]


@dataclass(frozen=True)
class Violation:
    rule: str
    name: str
    importance: str
    operator: str
    left_value: float | None
    right_value: float | None
    message: str
    unit: str
    unit_name: str
    period: str

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "name": self.name,
            "importance": self.importance,
            "operator": self.operator,
            "leftValue": self.left_value,
            "rightValue": self.right_value,
            "message": self.message,
            "unit": self.unit,
            "unitName": self.unit_name,
            "period": self.period,
        }


@dataclass(frozen=True)
class _Rule:
    row: ValidationRule
    left: Expression
    right: Expression


def applicable_rules(session: Session, form: ReportForm) -> list[ValidationRule]:
    """The form's own rules, and rules of no form that use at least one of its elements."""
    rows = session.scalars(
        select(ValidationRule)
        .where(or_(ValidationRule.form_id == form.id, ValidationRule.form_id.is_(None)))
        .order_by(ValidationRule.code)
    ).all()
    codes = set(
        session.scalars(
            select(DataElement.code).where(
                DataElement.id.in_([item.element_id for item in form.elements])
            )
        )
    )
    chosen = []
    for rule in rows:
        if rule.period_type and rule.period_type != form.period_type:
            continue
        if rule.form_id is None and not _uses(rule, codes):
            continue
        chosen.append(rule)
    return chosen


def _uses(rule: ValidationRule, codes: set[str]) -> bool:
    for text in (rule.left, rule.right):
        expression = parse_formula(text, f"Validation rule {rule.code}")
        if any(item.kind == "element" and item.code in codes for item in expression.items):
            return True
    return False


def run_rules(
    session: Session,
    form: ReportForm,
    unit: Unit,
    period: Period,
    *,
    roll_up: bool = False,
    now: datetime | None = None,
) -> list[Violation]:
    """The broken rules of ``form`` for one unit and period (its own values unless roll_up)."""
    target = TreeUnit(unit.id, unit.code, unit.name, unit.type, unit.parent_id)
    return check(session, form, [target], [period], roll_up=roll_up, now=now)


def check(
    session: Session,
    form: ReportForm,
    units: Sequence[TreeUnit],
    periods: Sequence[Period],
    *,
    roll_up: bool = False,
    now: datetime | None = None,
) -> list[Violation]:
    """Every broken rule for ``units`` × ``periods``, read in one pass over the values."""
    rules = [
        _Rule(
            row,
            parse_formula(row.left, f"Validation rule {row.code} left side"),
            parse_formula(row.right, f"Validation rule {row.code} right side"),
        )
        for row in applicable_rules(session, form)
    ]
    if not rules or not units or not periods:
        return []
    plan = plan_expressions(
        session, [(f"Validation rule {r.row.code}", [r.left, r.right]) for r in rules]
    )
    tree = load_tree(session, units, own_only=not roll_up)
    values = CellValues.load(session, plan, tree, periods, approved_only=False, now=now or utcnow())
    evaluator = Evaluator(plan, values)
    found = []
    for unit in units:
        for period in periods:
            resolve = _resolver(evaluator, unit.id, period)
            for rule in rules:
                if rule.row.period_type and PeriodType(rule.row.period_type) != period.type:
                    continue
                broken = judge(rule, resolve)
                if broken is not None:
                    found.append(_violation(rule.row, broken, unit, period))
    return found


def _resolver(evaluator: Evaluator, unit_id: int, period: Period) -> Resolve:
    return lambda item: evaluator.resolve(item, unit_id, period, NO_SHIFT)


def judge(rule: _Rule, resolve: Resolve) -> tuple[float | None, float | None] | None:
    """(left value, right value) when the rule is broken; None when it holds or is skipped."""
    known = {item: resolve(item) for item in (*rule.left.items, *rule.right.items)}
    operator = rule.row.operator
    if operator in (Operator.COMPULSORY_PAIR, Operator.EXCLUSIVE_PAIR):
        left_has, right_has = _has_data(rule.left, known), _has_data(rule.right, known)
        left = _value(rule.left, known) if left_has else None
        right = _value(rule.right, known) if right_has else None
        if operator == Operator.COMPULSORY_PAIR:
            return (left, right) if left_has != right_has else None
        return (left, right) if left_has and right_has else None
    present = [value is not None for item, value in known.items() if item.kind != "constant"]
    strategy = rule.row.missing_value_strategy or MissingValueStrategy.SKIP_IF_ANY_MISSING
    if present and strategy == MissingValueStrategy.SKIP_IF_ANY_MISSING and not all(present):
        return None
    if present and strategy == MissingValueStrategy.SKIP_IF_ALL_MISSING and not any(present):
        return None
    left, right = _value(rule.left, known), _value(rule.right, known)
    if left is None or right is None or holds(operator, left, right):
        return None
    return left, right


def _has_data(expression: Expression, known: dict[Item, float | None]) -> bool:
    return any(known[i] is not None for i in expression.items if i.kind != "constant")


def _value(expression: Expression, known: dict[Item, float | None]) -> float | None:
    return expression.evaluate_values([known[i] for i in expression.items], "never_skip")


def holds(operator: str, left: float, right: float) -> bool:
    close = math.isclose(left, right, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    if operator == Operator.EQ:
        return close
    if operator == Operator.NE:
        return not close
    if operator == Operator.GT:
        return left > right and not close
    if operator == Operator.GE:
        return left > right or close
    if operator == Operator.LT:
        return left < right and not close
    if operator == Operator.LE:
        return left < right or close
    raise ValueError(f"unknown operator {operator!r}; one of {', '.join(Operator)}")


def _violation(
    rule: ValidationRule, values: tuple[float | None, float | None], unit: TreeUnit, period: Period
) -> Violation:
    left, right = values
    if rule.operator == Operator.COMPULSORY_PAIR:
        detail = "cần nhập cả hai vế hoặc bỏ trống cả hai"
    elif rule.operator == Operator.EXCLUSIVE_PAIR:
        detail = "chỉ được nhập một trong hai vế"
    else:
        detail = f"{_number(left)} {rule.operator} {_number(right)} không thỏa"
    return Violation(
        rule=rule.code,
        name=rule.name,
        importance=rule.importance,
        operator=rule.operator,
        left_value=left,
        right_value=right,
        message=f"{rule.instruction or rule.name} ({detail})",
        unit=unit.code,
        unit_name=unit.name,
        period=period.code,
    )


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def notify_parent(
    session: Session, form: ReportForm, unit: Unit, period: Period, violations: list[Violation]
) -> Reminder | None:
    """Tell the unit's parent (the province) that a completed report breaks high-importance
    rules: one reminder per parent, form and period, with a line per child unit, kept current."""
    high = [v for v in violations if v.importance == Importance.HIGH]
    if not high or unit.parent_id is None:
        return None
    line = f"{unit.name} ({unit.code}): " + "; ".join(v.message for v in high)
    for _ in range(2):  # a concurrent first notice for the same parent wins the insert
        reminder = session.scalar(
            select(Reminder).where(
                Reminder.form_id == form.id,
                Reminder.unit_id == unit.parent_id,
                Reminder.period_code == period.code,
                Reminder.kind == ReminderKind.VALIDATION_VIOLATION,
            )
        )
        if reminder is not None:
            kept = [
                text
                for text in reminder.message.splitlines()[1:]
                if not text.startswith(f"{unit.name} ({unit.code}):")
            ]
            reminder.message = "\n".join([_heading(form, period), *kept, line])
            reminder.read_at = None
            return reminder
        try:
            with session.begin_nested():
                reminder = Reminder(
                    form_id=form.id,
                    unit_id=unit.parent_id,
                    period_code=period.code,
                    kind=ReminderKind.VALIDATION_VIOLATION.value,
                    message=f"{_heading(form, period)}\n{line}",
                )
                session.add(reminder)
            return reminder
        except IntegrityError:
            continue
    return None


def _heading(form: ReportForm, period: Period) -> str:
    return f"Báo cáo vi phạm quy tắc kiểm tra quan trọng — {form.name}, {period.label('vi')}:"


def after_completion(
    session: Session, form: ReportForm, unit: Unit, period: Period, now: datetime | None = None
) -> list[Violation]:
    """What completing a report triggers here: its rules checked, the parent told of
    high-importance violations. Called by the completion route; the caller commits."""
    violations = run_rules(session, form, unit, period, now=now)
    notify_parent(session, form, unit, period, violations)
    return violations
