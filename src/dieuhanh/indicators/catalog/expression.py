"""DHIS2's indicator and validation-rule expression language, by code (issue 5).

Grammar (``^`` binds tighter than unary minus, so ``-2^2`` is -4 as in mathematics; binary
operators are left-associative except ``^``)::

    expression := or
    or         := and (("||" | "or") and)*
    and        := equality (("&&" | "and") equality)*
    equality   := comparison (("==" | "!=") comparison)*
    comparison := additive (("<" | "<=" | ">" | ">=") additive)*
    additive   := term (("+" | "-") term)*
    term       := unary (("*" | "/" | "%") unary)*
    unary      := ("-" | "+" | "!" | "not") unary | power
    power      := primary ("^" unary)?
    primary    := number | "true" | "false" | item modifier* | function "(" arguments? ")"
                | "(" expression ")"
    number     := 123 | 1.5 | .5 | 1e3
    item       := "#{" code ("." option)? "}"      a data element, all disaggregations summed,
                                                    or one disaggregation option
                | "C{" code "}"                    a constant
                | "N{" code "}"                    another indicator
                | "R{" code "." metric "}"         a report form's REPORTING_RATE,
                  REPORTING_RATE_ON_TIME, ACTUAL_REPORTS, ACTUAL_REPORTS_ON_TIME or EXPECTED_REPORTS
    code       := 1 to 50 of A-Z a-z 0-9 _ - (ASCII)
    modifier   := ".periodOffset(" integer ")"    repeats add up
                | ".yearToDate()" | ".aggregationType(" SUM|AVERAGE|LAST|MIN|MAX ")"
                                                    (items only; ``(#{A})`` counts as an item)
    function   := if(c, a, b) | isNull(x) | isNotNull(x) | firstNonNull(x, ...) | greatest(x, ...)
                | least(x, ...) | log(x) | log(x, base) | log10(x) | abs(x) | sqrt(x)
                | removeZeros(x)                    names are case-sensitive, as in DHIS2

Evaluation: every value is a number or null (no value); ``true``, ``false`` and comparisons are
1 and 0. Null propagates: an operator or function with a null operand is null, and so are a
division or ``%`` by zero (an indicator whose denominator is 0 has no value), ``log``/``sqrt`` out
of their domain, ``removeZeros(0)``, a null ``if`` condition and any result that is not a finite
number. ``&&``/``||`` are three-valued (``false && null`` is false, ``true || null`` is true).
``greatest``/``least`` ignore nulls. ``%`` keeps the dividend's sign (Java's, hence DHIS2's).

Missing items follow a :data:`MissingValues` policy, as DHIS2's validation rules do; constants
never count as missing data:
``skip_if_any_missing`` — any missing item makes the result null;
``skip_if_all_missing`` — null only if every item is missing, otherwise missing items count as 0
(DHIS2's indicator behaviour, and the default);
``never_skip`` — missing items count as 0.
Inside ``isNull``, ``isNotNull`` and ``firstNonNull`` items are never replaced by 0, so those
functions see what is really missing; and an item used only there is left out of the policy's
count (``firstNonNull(#{A}, #{B})`` is not skipped because A is missing).

Limits keep hostile input cheap and Python's recursion bounded: text up to 10,000 characters,
nesting (parentheses, function calls, operators) up to 100 levels. Evaluation runs a tree of
closures built once per expression, without Python's ``eval``; :meth:`Expression.evaluate_values`
is the fast path for the analytics engine (about 2 µs for a five-item ratio).

This module is the one to import. The work is done in :mod:`.expression_syntax` (lexer, tree,
parser), :mod:`.expression_eval` (missing values, compiled evaluator) and
:mod:`.expression_graph` (cycles and unknown codes among indicators).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from dieuhanh.indicators.catalog.expression_eval import (
    DHIS2_MISSING_VALUES,
    MISSING_VALUES,
    Compiler,
    MissingValues,
    collect_items,
    has_null_aware,
)
from dieuhanh.indicators.catalog.expression_graph import (
    Definitions,
    find_cycles,
    unknown_references,
)
from dieuhanh.indicators.catalog.expression_syntax import (
    AGGREGATION_TYPES,
    FUNCTIONS,
    MAX_CODE_LENGTH,
    MAX_DEPTH,
    MAX_LENGTH,
    MODIFIERS,
    REPORTING_METRICS,
    Boolean,
    Call,
    Chain,
    ExpressionError,
    Item,
    ItemKind,
    ItemRef,
    Node,
    Number,
    Power,
    Unary,
    parse_tree,
    to_text,
)

__all__ = [
    "AGGREGATION_TYPES",
    "DHIS2_MISSING_VALUES",
    "FUNCTIONS",
    "MAX_CODE_LENGTH",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MISSING_VALUES",
    "MODIFIERS",
    "REPORTING_METRICS",
    "Boolean",
    "Call",
    "Chain",
    "Definitions",
    "Expression",
    "ExpressionError",
    "Item",
    "ItemKind",
    "ItemRef",
    "MissingValues",
    "Node",
    "Number",
    "Power",
    "Unary",
    "find_cycles",
    "parse",
    "to_text",
    "unknown_references",
]


class Expression:
    """A parsed expression: its text, tree, unique items (in order of appearance), and an
    evaluator compiled once."""

    __slots__ = ("_data", "_fn", "_raw", "items", "text", "tree")

    def __init__(self, text: str, tree: Node) -> None:
        self.text = text
        self.tree = tree
        found: dict[Item, None] = {}
        counted: set[Item] = set()
        collect_items(tree, found, counted, False)
        self.items: tuple[Item, ...] = tuple(found)
        # The items the missing-value policy looks at: constants are configuration, not data,
        # and an item only ever tested by isNull & co. is expected to be missing at times.
        self._data = tuple(item.kind != "constant" and item in counted for item in self.items)
        self._raw = has_null_aware(tree)
        self._fn = Compiler({item: i for i, item in enumerate(self.items)}).compile(tree)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def codes(self, kind: ItemKind) -> tuple[str, ...]:
        """The distinct codes of one kind of item, in order of appearance."""
        return tuple(dict.fromkeys(item.code for item in self.items if item.kind == kind))

    def evaluate(
        self,
        resolve: Callable[[Item], float | None],
        missing: MissingValues = "skip_if_all_missing",
    ) -> float | None:
        """The value, with ``resolve`` giving each item's value (None when missing)."""
        return self.evaluate_values([resolve(item) for item in self.items], missing)

    def evaluate_values(
        self, values: Sequence[float | None], missing: MissingValues = "skip_if_all_missing"
    ) -> float | None:
        """The value from item values given in the order of :attr:`items` — the fast path for
        evaluating one expression over many cells."""
        if len(values) != len(self.items):
            raise ValueError(f"{len(self.items)} values expected, got {len(values)}")
        if missing not in MISSING_VALUES:
            raise ValueError(f"unknown missing-value policy {missing!r}; use {MISSING_VALUES}")
        given = list(values)
        used = given
        if None in given:
            absent = [value is None and data for value, data in zip(given, self._data, strict=True)]
            if missing == "skip_if_any_missing" and any(absent):
                return None
            if (
                missing == "skip_if_all_missing"
                and any(self._data)
                and all(a for a, data in zip(absent, self._data, strict=True) if data)
            ):
                return None
            used = [0.0 if a else value for value, a in zip(given, absent, strict=True)]
        result = self._fn(used + given if self._raw else used)
        return result if result is None or math.isfinite(result) else None


def parse(text: str) -> Expression:
    """Parse an expression; every problem raises :class:`ExpressionError` with its position."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}",
            MAX_LENGTH,
            text,
        )
    return Expression(text, parse_tree(text))
