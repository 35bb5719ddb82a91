"""Evaluation of DHIS2 expressions: missing-value policies and the compiled evaluator.

A syntax tree becomes nested closures over a list of item values, built once per expression and
run without Python's ``eval``; the rules for nulls and missing data are described in
:mod:`dieuhanh.indicators.catalog.expression`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, TypeAlias

from dieuhanh.indicators.catalog.expression_syntax import (
    Boolean,
    Call,
    Chain,
    Item,
    ItemRef,
    Node,
    Number,
    Power,
    Unary,
)

MissingValues = Literal["skip_if_any_missing", "skip_if_all_missing", "never_skip"]
MISSING_VALUES: tuple[MissingValues, ...] = (
    "skip_if_any_missing",
    "skip_if_all_missing",
    "never_skip",
)
# DHIS2's names for the same strategies, for imported validation rules.
DHIS2_MISSING_VALUES: dict[str, MissingValues] = {
    "SKIP_IF_ANY_VALUE_MISSING": "skip_if_any_missing",
    "SKIP_IF_ALL_VALUES_MISSING": "skip_if_all_missing",
    "NEVER_SKIP": "never_skip",
}

_Values: TypeAlias = Sequence[float | None]
_Fn: TypeAlias = Callable[[_Values], float | None]


def _div(a: float, b: float) -> float | None:
    return None if b == 0 else a / b


def _mod(a: float, b: float) -> float | None:
    # math.fmod keeps the dividend's sign like Java's %, which DHIS2 uses.
    try:
        return None if b == 0 else math.fmod(a, b)
    except ValueError:  # fmod(inf, x)
        return None


def _pow(a: float, b: float) -> float | None:
    try:
        return math.pow(a, b)
    except (ValueError, OverflowError):  # 0^-1, (-8)^(1/3), 10^400
        return None


def _compare(op: Callable[[float, float], bool]) -> Callable[[float, float], float]:
    return lambda a, b: 1.0 if op(a, b) else 0.0


_ARITHMETIC: dict[str, Callable[[float, float], float | None]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _div,
    "%": _mod,
    "==": _compare(operator.eq),
    "!=": _compare(operator.ne),
    "<": _compare(operator.lt),
    "<=": _compare(operator.le),
    ">": _compare(operator.gt),
    ">=": _compare(operator.ge),
}


def _log(x: float, base: float | None = None) -> float | None:
    if x <= 0 or (base is not None and (base <= 0 or base == 1)):
        return None
    return math.log(x) if base is None else math.log(x, base)


_MATH: dict[str, Callable[..., float | None]] = {
    "log": _log,
    "log10": lambda x: None if x <= 0 else math.log10(x),
    "abs": abs,
    "sqrt": lambda x: None if x < 0 else math.sqrt(x),
    "removeZeros": lambda x: None if x == 0 else x,
}
_NULL_AWARE = ("isNull", "isNotNull", "firstNonNull")


class Compiler:
    """Turns a tree into nested closures over a list of item values.

    The list holds each item's value with missing data replaced per the policy, then (from
    index ``raw``) the same values as resolved, for the null-aware functions."""

    def __init__(self, index: Mapping[Item, int]) -> None:
        self.index = index
        self.raw = len(index)

    def compile(self, node: Node, raw: bool = False) -> _Fn:
        if isinstance(node, Number | Boolean):
            value = float(node.value)
            return lambda v: value
        if isinstance(node, ItemRef):
            return operator.itemgetter(self.index[node.item] + (self.raw if raw else 0))
        if isinstance(node, Unary):
            return self.unary(node.op, self.compile(node.operand, raw))
        if isinstance(node, Chain):
            return self.chain(node, raw)
        if isinstance(node, Power):
            return self.binary(_pow, self.compile(node.base, raw), self.compile(node.exponent, raw))
        return self.call(node, raw)

    @staticmethod
    def unary(op: str, f: _Fn) -> _Fn:
        if op == "+":
            return f
        if op == "-":
            return lambda v: None if (x := f(v)) is None else -x
        return lambda v: None if (x := f(v)) is None else (0.0 if x else 1.0)

    @staticmethod
    def binary(op: Callable[[float, float], float | None], f: _Fn, g: _Fn) -> _Fn:
        def binary(v: _Values) -> float | None:
            a = f(v)
            if a is None:
                return None
            b = g(v)
            return None if b is None else op(a, b)

        return binary

    def chain(self, node: Chain, raw: bool) -> _Fn:
        first = self.compile(node.first, raw)
        rest = [(op, self.compile(operand, raw)) for op, operand in node.rest]
        if node.rest[0][0] in ("&&", "||"):
            return _logical(node.rest[0][0] == "&&", [first, *(f for _, f in rest)])
        if len(rest) == 1:  # the common case, without the loop
            return self.binary(_ARITHMETIC[rest[0][0]], first, rest[0][1])
        steps = [(_ARITHMETIC[op], f) for op, f in rest]

        def chain(v: _Values) -> float | None:
            a = first(v)
            for op, f in steps:
                if a is None:
                    return None
                b = f(v)
                a = None if b is None else op(a, b)
            return a

        return chain

    def call(self, node: Call, raw: bool) -> _Fn:
        args = [self.compile(arg, raw or node.name in _NULL_AWARE) for arg in node.args]
        if node.name == "if":
            return _if(*args)
        if node.name == "isNull":
            return lambda v: 1.0 if args[0](v) is None else 0.0
        if node.name == "isNotNull":
            return lambda v: 0.0 if args[0](v) is None else 1.0
        if node.name == "firstNonNull":
            return lambda v: next((x for f in args if (x := f(v)) is not None), None)
        if node.name in ("greatest", "least"):
            pick = max if node.name == "greatest" else min
            return lambda v: pick((x for f in args if (x := f(v)) is not None), default=None)
        function = _MATH[node.name]

        def call(v: _Values) -> float | None:
            values = [f(v) for f in args]
            return None if None in values else function(*values)

        return call


def _if(condition: _Fn, then: _Fn, otherwise: _Fn) -> _Fn:
    def if_(v: _Values) -> float | None:
        c = condition(v)
        if c is None:
            return None
        return then(v) if c else otherwise(v)

    return if_


def _logical(is_and: bool, operands: list[_Fn]) -> _Fn:
    # Kleene logic: a false operand decides "and", a true one decides "or", whatever is null.
    def logical(v: _Values) -> float | None:
        unknown = False
        for f in operands:
            x = f(v)
            if x is None:
                unknown = True
            elif bool(x) != is_and:
                return 0.0 if is_and else 1.0
        return None if unknown else (1.0 if is_and else 0.0)

    return logical


def collect_items(
    node: Node, found: dict[Item, None], counted: set[Item], null_aware: bool
) -> None:
    """Adds the tree's items to ``found`` in order of appearance, and to ``counted`` those used
    outside isNull, isNotNull and firstNonNull (the ones the missing-value policy looks at)."""
    if isinstance(node, ItemRef):
        found.setdefault(node.item, None)
        if not null_aware:
            counted.add(node.item)
    null_aware = null_aware or (isinstance(node, Call) and node.name in _NULL_AWARE)
    for child in node.children():
        collect_items(child, found, counted, null_aware)


def has_null_aware(node: Node) -> bool:
    """Whether the tree calls isNull, isNotNull or firstNonNull, which need the raw values."""
    if isinstance(node, Call) and node.name in _NULL_AWARE:
        return True
    return any(has_null_aware(child) for child in node.children())
