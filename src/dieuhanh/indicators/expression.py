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
"""

from __future__ import annotations

import math
import operator
import re
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple, TypeAlias, cast

MAX_LENGTH = 10_000
MAX_DEPTH = 100
MAX_CODE_LENGTH = 50

ItemKind = Literal["element", "constant", "indicator", "reporting_rate"]
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
REPORTING_METRICS = (
    "REPORTING_RATE",
    "REPORTING_RATE_ON_TIME",
    "ACTUAL_REPORTS",
    "ACTUAL_REPORTS_ON_TIME",
    "EXPECTED_REPORTS",
)
AGGREGATION_TYPES = ("SUM", "AVERAGE", "LAST", "MIN", "MAX")
MODIFIERS = ("periodOffset", "yearToDate", "aggregationType")
_PREFIXES: dict[str, ItemKind] = {
    "#": "element",
    "C": "constant",
    "N": "indicator",
    "R": "reporting_rate",
}
_PREFIX_OF: dict[ItemKind, str] = {kind: prefix for prefix, kind in _PREFIXES.items()}


class ExpressionError(ValueError):
    """A formula that cannot be used, with the 0-based character position of the problem."""

    def __init__(self, message: str, position: int, expression: str) -> None:
        self.message = message
        self.position = position
        self.expression = expression
        snippet, _ = _excerpt(expression, position)
        super().__init__(f"{message} at position {position}: {snippet}")

    def __reduce__(self) -> tuple[type[ExpressionError], tuple[str, int, str]]:
        # The default would call the class with the formatted text only, and fail.
        return type(self), (self.message, self.position, self.expression)

    def pointer(self) -> str:
        """Two lines for a monospaced UI: the expression (an excerpt when long) and a caret."""
        snippet, column = _excerpt(self.expression, self.position)
        return f"{snippet}\n{' ' * column}^"


def _excerpt(text: str, position: int, width: int = 80) -> tuple[str, int]:
    # Newlines and tabs would break the caret's alignment, so they are shown as spaces.
    flat = re.sub(r"\s", " ", text)
    if len(flat) <= width:
        return flat, position
    start = max(0, min(position - width // 2, len(flat) - width))
    snippet = flat[start : start + width]
    prefix = "…" if start else ""
    suffix = "…" if start + width < len(flat) else ""
    return prefix + snippet + suffix, position - start + len(prefix)


@dataclass(frozen=True)
class Item:
    """A reference to a value: positions are left out of equality, so two references to the same
    thing are one item."""

    kind: ItemKind
    code: str
    option: str | None = None  # the disaggregation option, or the reporting-rate metric
    period_offset: int = 0
    year_to_date: bool = False
    aggregation: str | None = None
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)

    def __str__(self) -> str:
        option = f".{self.option}" if self.option else ""
        text = f"{_PREFIX_OF[self.kind]}{{{self.code}{option}}}"
        if self.period_offset:
            text += f".periodOffset({self.period_offset})"
        if self.year_to_date:
            text += ".yearToDate()"
        if self.aggregation:
            text += f".aggregationType({self.aggregation})"
        return text


# --- syntax tree -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    position: int = field(default=0, compare=False, kw_only=True)
    depth: int = field(default=1, init=False, compare=False, repr=False)

    def children(self) -> tuple[Node, ...]:
        return ()

    def __post_init__(self) -> None:
        # Stored once so the parser can refuse trees deeper than MAX_DEPTH in constant time.
        depth = 1 + max((child.depth for child in self.children()), default=0)
        object.__setattr__(self, "depth", depth)


@dataclass(frozen=True)
class Number(_Node):
    value: float


@dataclass(frozen=True)
class Boolean(_Node):
    value: bool


@dataclass(frozen=True)
class ItemRef(_Node):
    item: Item


@dataclass(frozen=True)
class Unary(_Node):
    op: Literal["-", "+", "!"]
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Chain(_Node):
    """Left-associative operators of one precedence level: ``a - b + c`` is one node, so a long
    sum of items is a wide tree, not a deep one."""

    first: Node
    rest: tuple[tuple[str, Node], ...]

    def children(self) -> tuple[Node, ...]:
        return (self.first, *(node for _, node in self.rest))


@dataclass(frozen=True)
class Power(_Node):
    base: Node
    exponent: Node

    def children(self) -> tuple[Node, ...]:
        return (self.base, self.exponent)


@dataclass(frozen=True)
class Call(_Node):
    name: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args


Node: TypeAlias = Number | Boolean | ItemRef | Unary | Chain | Power | Call


def to_text(node: Node) -> str:
    """The expression as text that parses back to the same tree (sub-expressions parenthesised)."""
    if isinstance(node, Number):
        return repr(node.value)
    if isinstance(node, Boolean):
        return "true" if node.value else "false"
    if isinstance(node, ItemRef):
        return str(node.item)
    if isinstance(node, Unary):
        return node.op + _wrapped(node.operand)
    if isinstance(node, Chain):
        return _wrapped(node.first) + "".join(f" {op} {_wrapped(n)}" for op, n in node.rest)
    if isinstance(node, Power):
        return f"{_wrapped(node.base)} ^ {_wrapped(node.exponent)}"
    return f"{node.name}({', '.join(to_text(arg) for arg in node.args)})"


def _wrapped(node: Node) -> str:
    return f"({to_text(node)})" if isinstance(node, Unary | Chain | Power) else to_text(node)


# --- tokens ----------------------------------------------------------------------------------


class _Token(NamedTuple):
    kind: Literal["number", "item", "name", "op", "(", ")", ",", ".", "end"]
    text: str
    start: int
    value: object = None


_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CODE_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")
_CODE = re.compile(r"[A-Za-z0-9_\-]+")
_OPERATORS = ("==", "!=", ">=", "<=", "&&", "||", ">", "<", "+", "-", "*", "/", "%", "^", "!")
_WORD_OPERATORS = {"and": "&&", "or": "||", "not": "!"}
_HINTS = {"=": "use '==' to compare", "&": "use '&&'", "|": "use '||'"}


def _tokens(text: str) -> Iterator[_Token]:
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif match := _NUMBER.match(text, i):
            value = float(match[0])
            if not math.isfinite(value):
                raise ExpressionError(f"number {match[0]} is too large", i, text)
            yield _Token("number", match[0], i, value)
            i = match.end()
        elif text.startswith(("#{", "C{", "N{", "R{"), i):
            item = _scan_item(text, i)
            yield _Token("item", text[i : item.end], i, item)
            i = item.end
        elif match := _NAME.match(text, i):
            word = match[0]
            if text.startswith("{", match.end()):
                raise ExpressionError(
                    f"unsupported item type '{word}{{'; items are #{{}}, C{{}}, N{{}} and R{{}}",
                    i,
                    text,
                )
            if word in _WORD_OPERATORS:
                yield _Token("op", word, i, _WORD_OPERATORS[word])
            else:
                yield _Token("name", word, i)
            i = match.end()
        elif ch in "(),.":
            yield _Token(cast(Literal["(", ")", ",", "."], ch), ch, i)
            i += 1
        elif op := next((op for op in _OPERATORS if text.startswith(op, i)), None):
            yield _Token("op", op, i, op)
            i += len(op)
        else:
            hint = _HINTS.get(ch, "#{CODE} starts a data element" if ch == "#" else "")
            raise ExpressionError(
                f"unexpected character {ch!r}" + (f"; {hint}" if hint else ""), i, text
            )
    yield _Token("end", "", n)


def _scan_item(text: str, start: int) -> Item:
    kind = _PREFIXES[text[start]]
    body_start = start + 2
    body_end = body_start
    while body_end < len(text) and text[body_end] in _CODE_ALPHABET:
        body_end += 1
    if body_end == len(text):
        raise ExpressionError("missing '}' to close the item", body_end, text)
    if text[body_end] != "}":
        raise ExpressionError(
            f"unexpected {text[body_end]!r} in item code (codes use letters, digits, _ and -)",
            body_end,
            text,
        )
    parts, offset = text[body_start:body_end].split("."), body_start
    for part in parts:
        if not _CODE.fullmatch(part):
            raise ExpressionError("empty code in item", offset + len(part), text)
        if len(part) > MAX_CODE_LENGTH:
            raise ExpressionError(f"code longer than {MAX_CODE_LENGTH} characters", offset, text)
        offset += len(part) + 1
    allowed = {"element": (1, 2), "constant": (1,), "indicator": (1,), "reporting_rate": (2,)}[kind]
    if len(parts) not in allowed:
        raise ExpressionError(_item_shape(kind), start, text)
    option = parts[1] if len(parts) == 2 else None
    if kind == "reporting_rate" and option not in REPORTING_METRICS:
        raise ExpressionError(
            f"unknown reporting-rate metric {option!r}; use one of {', '.join(REPORTING_METRICS)}",
            body_start + len(parts[0]) + 1,
            text,
        )
    return Item(kind, parts[0], option, start=start, end=body_end + 1)


def _item_shape(kind: ItemKind) -> str:
    return {
        "element": "a data element is #{CODE} or #{CODE.OPTION}",
        "constant": "a constant is C{CODE}",
        "indicator": "an indicator is N{CODE}",
        "reporting_rate": "a reporting rate is R{FORM.METRIC}, e.g. R{FORM.REPORTING_RATE}",
    }[kind]


# --- parser ----------------------------------------------------------------------------------

_BINARY = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}
# name -> (fewest, most) arguments; None = any number.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "if": (3, 3),
    "isNull": (1, 1),
    "isNotNull": (1, 1),
    "firstNonNull": (1, None),
    "greatest": (1, None),
    "least": (1, None),
    "log": (1, 2),
    "log10": (1, 1),
    "abs": (1, 1),
    "sqrt": (1, 1),
    "removeZeros": (1, 1),
}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = list(_tokens(text))
        self.i = 0
        self.nesting = 0

    def error(self, message: str, position: int) -> ExpressionError:
        return ExpressionError(message, position, self.text)

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, kind: str, what: str) -> _Token:
        token = self.peek()
        if token.kind != kind:
            raise self.unexpected(token, f"expected {what}")
        return self.take()

    def unexpected(self, token: _Token, expected: str = "") -> ExpressionError:
        found = "end of expression" if token.kind == "end" else repr(token.text)
        if expected:
            return self.error(f"{expected}, found {found}", token.start)
        if token.kind == "end":
            return self.error("unexpected end of expression", token.start)
        kind = f"{token.kind} " if token.kind in ("number", "name", "item") else ""
        return self.error(f"unexpected {kind}{found}", token.start)

    @contextmanager
    def nested(self, position: int) -> Iterator[None]:
        # Bounds Python's recursion: every recursive descent passes through here.
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise self.error(f"expression is nested more than {MAX_DEPTH} levels deep", position)
        yield
        self.nesting -= 1

    def node(self, node: Node) -> Node:
        # Bounds the tree that evaluation walks, including chains of operators (a*b+c==d …).
        if node.depth > MAX_DEPTH:
            raise self.error(
                f"expression is nested more than {MAX_DEPTH} levels deep", node.position
            )
        return node

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.error("empty expression", 0)
        tree = self.expression(0)
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        return tree

    def expression(self, min_level: int) -> Node:
        with self.nested(self.peek().start):
            first = self.unary()
            rest: list[tuple[str, Node]] = []
            level = 0
            while True:
                token = self.peek()
                op = str(token.value)
                if token.kind != "op" or _BINARY.get(op, 0) < max(min_level, 1):
                    break
                self.take()
                if rest and _BINARY[op] != level:
                    first, rest = self.chain(first, rest), []
                level = _BINARY[op]
                rest.append((op, self.expression(level + 1)))
            return self.chain(first, rest) if rest else first

    def chain(self, first: Node, rest: list[tuple[str, Node]]) -> Node:
        return self.node(Chain(first, tuple(rest), position=first.position))

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.value in ("-", "+", "!"):
            self.take()
            with self.nested(token.start):
                operand = self.unary()
            return self.node(Unary(token.value, operand, position=token.start))
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        token = self.peek()
        if token.kind == "op" and token.value == "^":
            self.take()
            with self.nested(token.start):
                exponent = self.unary()
            return self.node(Power(base, exponent, position=token.start))
        return base

    def postfix(self) -> Node:
        node = self.primary()
        while self.peek().kind == ".":
            dot = self.take()
            if not isinstance(node, ItemRef):
                raise self.error("modifiers apply only to items such as #{CODE}", dot.start)
            node = ItemRef(self.modifier(node.item, dot), position=node.position)
        return node

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Number(float(token.text), position=token.start)
        if token.kind == "item":
            return ItemRef(cast(Item, token.value), position=token.start)
        if token.kind == "(":
            inner = self.expression(0)
            if self.peek().kind != ")":
                found = self.peek()
                raise self.unexpected(
                    found, f"expected ')' to close the '(' at position {token.start}"
                )
            self.take()
            return inner
        if token.kind == "name":
            return self.name(token)
        raise self.unexpected(token)

    def name(self, token: _Token) -> Node:
        if token.text in ("true", "false"):
            return Boolean(token.text == "true", position=token.start)
        if token.text not in FUNCTIONS:
            known = {name.lower(): name for name in FUNCTIONS}
            hint = known.get(token.text.lower())
            kind = "function" if self.peek().kind == "(" else "name"
            advice = f"did you mean {hint}()?" if hint else f"functions: {', '.join(FUNCTIONS)}"
            raise self.error(f"unknown {kind} {token.text!r}; {advice}", token.start)
        self.expect("(", f"'(' after {token.text}")
        args: list[Node] = []
        if self.peek().kind != ")":
            args.append(self.expression(0))
            while self.peek().kind == ",":
                self.take()
                args.append(self.expression(0))
        self.expect(")", f"',' or ')' in {token.text}()")
        self.check_arity(token, len(args))
        return self.node(Call(token.text, tuple(args), position=token.start))

    def check_arity(self, token: _Token, count: int) -> None:
        fewest, most = FUNCTIONS[token.text]
        if fewest <= count and (most is None or count <= most):
            return
        if most is None:
            wanted = f"at least {fewest}"
        elif fewest == most:
            wanted = str(fewest)
        else:
            wanted = f"{fewest} or {most}"
        plural = "" if wanted == "1" or wanted.endswith(" 1") else "s"
        raise self.error(
            f"{token.text}() takes {wanted} argument{plural}, got {count}", token.start
        )

    def modifier(self, item: Item, dot: _Token) -> Item:
        name = self.expect("name", "a modifier name after '.'")
        if name.text not in MODIFIERS:
            raise self.error(
                f"unknown modifier {name.text!r}; modifiers: {', '.join(MODIFIERS)}", name.start
            )
        if item.kind == "constant":
            raise self.error("a constant takes no modifiers", dot.start)
        self.expect("(", f"'(' after {name.text}")
        if name.text == "periodOffset":
            item = replace(item, period_offset=item.period_offset + self.offset())
        elif name.text == "yearToDate":
            item = replace(item, year_to_date=True)
        else:
            arg = self.take()
            if arg.kind != "name" or arg.text not in AGGREGATION_TYPES:
                raise self.error(
                    f"aggregationType() takes one of {', '.join(AGGREGATION_TYPES)}", arg.start
                )
            item = replace(item, aggregation=arg.text)
        close = self.expect(")", f"')' to close {name.text}(")
        return replace(item, end=close.start + 1)

    def offset(self) -> int:
        sign = 1
        if self.peek().kind == "op" and self.peek().value in ("-", "+"):
            sign = -1 if self.take().value == "-" else 1
        token = self.take()
        if token.kind != "number" or not token.text.isdigit() or len(token.text) > 6:
            raise self.error(
                "periodOffset() takes a whole number of periods, e.g. -12", token.start
            )
        return sign * int(token.text)


# --- evaluation ------------------------------------------------------------------------------

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


class _Compiler:
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


# --- public API ------------------------------------------------------------------------------


class Expression:
    """A parsed expression: its text, tree, unique items (in order of appearance), and an
    evaluator compiled once."""

    __slots__ = ("_data", "_fn", "_raw", "items", "text", "tree")

    def __init__(self, text: str, tree: Node) -> None:
        self.text = text
        self.tree = tree
        found: dict[Item, None] = {}
        counted: set[Item] = set()
        _collect(tree, found, counted, False)
        self.items: tuple[Item, ...] = tuple(found)
        # The items the missing-value policy looks at: constants are configuration, not data,
        # and an item only ever tested by isNull & co. is expected to be missing at times.
        self._data = tuple(item.kind != "constant" and item in counted for item in self.items)
        self._raw = _has_null_aware(tree)
        self._fn = _Compiler({item: i for i, item in enumerate(self.items)}).compile(tree)

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


def _collect(node: Node, found: dict[Item, None], counted: set[Item], null_aware: bool) -> None:
    if isinstance(node, ItemRef):
        found.setdefault(node.item, None)
        if not null_aware:
            counted.add(node.item)
    null_aware = null_aware or (isinstance(node, Call) and node.name in _NULL_AWARE)
    for child in node.children():
        _collect(child, found, counted, null_aware)


def _has_null_aware(node: Node) -> bool:
    if isinstance(node, Call) and node.name in _NULL_AWARE:
        return True
    return any(_has_null_aware(child) for child in node.children())


def parse(text: str) -> Expression:
    """Parse an expression; every problem raises :class:`ExpressionError` with its position."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}",
            MAX_LENGTH,
            text,
        )
    return Expression(text, _Parser(text).parse())


Definitions: TypeAlias = Mapping[str, "Expression | Sequence[Expression]"]


def _references(definitions: Definitions) -> dict[str, list[str]]:
    graph: dict[str, list[str]] = {}
    for code, expressions in definitions.items():
        many = [expressions] if isinstance(expressions, Expression) else expressions
        graph[code] = list(dict.fromkeys(c for e in many for c in e.codes("indicator")))
    return graph


def unknown_references(definitions: Definitions) -> dict[str, list[str]]:
    """Indicator code -> the N{...} codes it uses that are not defined (only codes with some)."""
    graph = _references(definitions)
    unknown = {code: sorted(set(refs) - graph.keys()) for code, refs in graph.items()}
    return {code: refs for code, refs in sorted(unknown.items()) if refs}


def find_cycles(definitions: Definitions) -> list[list[str]]:
    """Cycles through N{...} references, as ``[["A", "B", "A"], ["C", "C"]]``.

    One shortest cycle per group of mutually dependent indicators (strongly connected component),
    starting at the group's smallest code: enough to name every problem; undefined codes are left
    to :func:`unknown_references`."""
    graph = {
        code: [r for r in refs if r in definitions]
        for code, refs in _references(definitions).items()
    }
    cycles = []
    for component in _components(graph):
        start = min(component)
        if len(component) > 1 or start in graph[start]:
            cycles.append(_shortest_cycle(graph, start, set(component)))
    return sorted(cycles)


def _components(graph: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iterative so a long chain cannot overflow."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph[nxt])))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def _shortest_cycle(graph: Mapping[str, list[str]], start: str, within: set[str]) -> list[str]:
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in graph[node]:
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if nxt in within and nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"{start} is in a cycle but none was found")  # pragma: no cover
