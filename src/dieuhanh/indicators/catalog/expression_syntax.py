"""The syntax of DHIS2 expressions: limits, items, the syntax tree, the lexer and the parser.

Turns text into a tree of :data:`Node` (every problem an :class:`ExpressionError` with its
position) and back again with :func:`to_text`; the grammar is in
:mod:`dieuhanh.indicators.catalog.expression`, which is the module to import.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple, TypeAlias, cast

MAX_LENGTH = 10_000
MAX_DEPTH = 100
MAX_CODE_LENGTH = 50

ItemKind = Literal["element", "constant", "indicator", "reporting_rate"]
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


def parse_tree(text: str) -> Node:
    """The syntax tree of ``text`` (the length limit is checked by the caller)."""
    return _Parser(text).parse()
