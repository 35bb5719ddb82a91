"""Conditions of alert rules: a small, safe subset of Python expressions over an event's fields.

    state == 'dead' and reason != 'unauthorized'
    value > 120 or status in ('failing', 'late')

Why a subset of Python: people who write rules read it at a glance, Python's own parser gives
a syntax error its line and column, and a whitelist of syntax nodes (no attributes, no calls
except a few named functions, no subscripts of anything but fields, no comprehensions) keeps
a rule from reaching anything but the event it is given. A whitelisted tree is compiled once
and evaluated with no builtins: about a microsecond an evaluation.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 1000

_ALLOWED = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Is, ast.IsNot, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod,
    ast.Name, ast.Load, ast.Constant, ast.Tuple, ast.List, ast.Call, ast.IfExp,
)  # fmt: skip
# Functions a condition may call: pure, cheap, harmless.
FUNCTIONS: dict[str, Any] = {"abs": abs, "min": min, "max": max, "round": round, "len": len,
                             "lower": lambda s: str(s).lower(), "isnan": math.isnan}  # fmt: skip


def _number(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("arithmetic on numbers only")
    return value


def _multiply(left: Any, right: Any) -> float | int:
    return _number(left) * _number(right)


def _modulo(left: Any, right: Any) -> float | int:
    return _number(left) % _number(right)


# `*` and `%` on numbers only: 'x' * 10**8 or '%0999999999d' % 1 would take any memory.
_SAFE_OPERATORS: dict[type, tuple[str, Any]] = {
    ast.Mult: ("__multiply", _multiply),
    ast.Mod: ("__modulo", _modulo),
}


class _NumbersOnly(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        safe = _SAFE_OPERATORS.get(type(node.op))
        if safe is None:
            return node
        call = ast.Call(func=ast.Name(id=safe[0], ctx=ast.Load()), args=[node.left, node.right],
                        keywords=[])  # fmt: skip
        return ast.copy_location(call, node)


_GLOBALS: dict[str, Any] = {"__builtins__": {}, **FUNCTIONS, **dict(_SAFE_OPERATORS.values())}


class ExpressionError(ValueError):
    """A condition that cannot be used, with where (1-based column) it goes wrong."""

    def __init__(self, message: str, column: int | None = None) -> None:
        self.column = column
        super().__init__(message if column is None else f"{message} (at column {column})")


@dataclass(frozen=True)
class Condition:
    text: str
    fields: frozenset[str]
    _code: Any

    def __call__(self, values: Mapping[str, Any]) -> bool:
        """True when the condition holds for these values; a missing field or a comparison
        of things that do not compare (None < 3) is simply False."""
        try:
            return bool(eval(self._code, _GLOBALS, values))
        except (NameError, TypeError, ValueError, ArithmeticError, MemoryError):
            return False


def compile_condition(text: str, known_fields: Collection[str] | None = None) -> Condition:
    """Parse and check a condition; ``known_fields`` (the event's payload fields), when given,
    turns a misspelt field into an error naming the fields there are."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("the condition is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the condition is longer than {MAX_LENGTH} characters")
    source = text.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.msg}", exc.offset or len(source)) from None
    fields: set[str] = set()
    for node in ast.walk(tree):
        column = getattr(node, "col_offset", -1) + 1 or None
        if not isinstance(node, _ALLOWED):
            raise ExpressionError(f"'{type(node).__name__}' is not allowed in a condition", column)
        if isinstance(node, ast.Call):
            if (
                not isinstance(node.func, ast.Name)
                or node.func.id not in FUNCTIONS
                or node.keywords
            ):
                raise ExpressionError(
                    f"only these functions may be called: {', '.join(sorted(FUNCTIONS))}", column
                )
        elif isinstance(node, ast.Name) and node.id not in FUNCTIONS:
            if node.id in ("True", "False", "None"):
                continue
            if known_fields is not None and node.id not in known_fields:
                raise ExpressionError(
                    f"unknown field '{node.id}'; the event has: {', '.join(sorted(known_fields))}",
                    column,
                )
            fields.add(node.id)
    tree = ast.fix_missing_locations(_NumbersOnly().visit(tree))
    code = compile(tree, "<condition>", "eval")
    return Condition(text=source, fields=frozenset(fields), _code=code)
