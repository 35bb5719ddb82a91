"""The DHIS2 expression language: values, items, missing data, errors, cycles, and fuzzing."""

from __future__ import annotations

import math
import pickle
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dieuhanh.indicators.catalog.expression import (
    AGGREGATION_TYPES,
    FUNCTIONS,
    MAX_DEPTH,
    REPORTING_METRICS,
    Boolean,
    Call,
    Chain,
    Expression,
    ExpressionError,
    Item,
    ItemRef,
    MissingValues,
    Node,
    Number,
    Power,
    Unary,
    find_cycles,
    parse,
    to_text,
    unknown_references,
)


def value(
    text: str, values: Mapping[str, float | None] | None = None, **kw: MissingValues
) -> float | None:
    """Evaluate with items looked up by their text, e.g. ``{"#{A}": 1}``; absent means missing."""
    table = values or {}
    return parse(text).evaluate(lambda item: table.get(str(item)), **kw)


VALUE_CASES: list[tuple[str, float | None]] = [
    ("123", 123),
    ("1.5", 1.5),
    (".5", 0.5),
    ("1e3", 1000),
    ("2.5E-1", 0.25),
    ("1.", 1),
    ("2+3*4^2", 50),
    ("-2^2", -4),
    ("(-2)^2", 4),
    ("2^3^2", 512),
    ("2^-1", 0.5),
    ("-2^-2", -0.25),
    ("+3", 3),
    ("--3", 3),
    ("10-4-3", 3),
    ("100/10/5", 2),
    ("2*3%4", 2),
    ("10 % 3", 1),
    ("-7 % 3", -1),
    ("7 % -3", 1),
    ("(2+3)*4", 20),
    ("1 + 2 == 3", 1),
    ("1 < 2 == 1", 1),
    ("3 > 2", 1),
    ("3 >= 3", 1),
    ("3 < 3", 0),
    ("3 <= 2", 0),
    ("3 != 3", 0),
    ("(1 < 2) * 10", 10),
    ("true", 1),
    ("false", 0),
    ("true && false", 0),
    ("true || false", 1),
    ("false || false && true", 0),
    ("true || false && false", 1),
    ("!true", 0),
    ("!0", 1),
    ("!5", 0),
    ("not false", 1),
    ("1 and 0", 0),
    ("0 or 2", 1),
    ("!1 == 0", 1),
    ("if(1 > 2, 3, 4)", 4),
    ("if(2 > 1, 3, 4)", 3),
    ("if(true && 2 >= 2, 10, 1/0)", 10),
    ("isNull(1)", 0),
    ("isNotNull(1)", 1),
    ("isNull(1/0)", 1),
    ("isNotNull(1/0)", 0),
    ("firstNonNull(1/0, log(-1), 7, 8)", 7),
    ("firstNonNull(1/0)", None),
    ("greatest(1, 5, 3)", 5),
    ("greatest(-1)", -1),
    ("greatest(1/0, 2)", 2),
    ("least(4, 2, 9)", 2),
    ("least(1/0, 1/0)", None),
    ("log(1)", 0),
    ("log(8, 2)", 3),
    ("log(0)", None),
    ("log(-1)", None),
    ("log(8, 1)", None),
    ("log10(1000)", 3),
    ("log10(0)", None),
    ("abs(-3.5)", 3.5),
    ("sqrt(16)", 4),
    ("sqrt(-1)", None),
    ("removeZeros(0)", None),
    ("removeZeros(4)", 4),
    ("removeZeros(2 - 2) + 1", None),
    ("1/0", None),
    ("0/0", None),
    ("5 % 0", None),
    ("0^-1", None),
    ("(-8)^(1/3)", None),
    ("10^400", None),
    ("1e308 * 10", None),  # not a finite number: no value
    ("(1/0) + 1", None),
    ("-(1/0)", None),
    ("!(1/0)", None),
    ("(1/0) < 1", None),
    ("if(1/0, 1, 2)", None),
    ("(1/0) && false", 0),
    ("false && (1/0)", 0),
    ("(1/0) || true", 1),
    ("(1/0) && true", None),
    ("(1/0) || false", None),
    ("abs(1/0)", None),
    ("log(1/0, 2)", None),
]


@pytest.mark.parametrize(("text", "expected"), VALUE_CASES)
def test_values(text: str, expected: float | None) -> None:
    result = value(text)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_every_function_is_covered_by_the_value_table() -> None:
    used = {name for name in FUNCTIONS for text, _ in VALUE_CASES if f"{name}(" in text}
    assert used == set(FUNCTIONS)


def test_dhis2_style_indicator_expressions() -> None:
    data = {
        "#{OVERDUE_DOSSIERS}": 12.0,
        "#{DOSSIERS_TOTAL}": 480.0,
        "#{DOSSIERS}": 480.0,
        "#{DOSSIERS.ONLINE}": 300.0,
        "#{DOSSIERS}.periodOffset(-12)": 400.0,
        "R{BC01.REPORTING_RATE}": 87.5,
        "C{POPULATION}": 1000.0,
    }
    assert value("#{OVERDUE_DOSSIERS}/#{DOSSIERS_TOTAL}", data) == 0.025
    assert value("#{OVERDUE_DOSSIERS} / #{DOSSIERS_TOTAL} * 100", data) == 2.5
    assert value("#{DOSSIERS.ONLINE} / #{DOSSIERS} * 100", data) == 62.5
    assert (
        value("(#{DOSSIERS} - #{DOSSIERS}.periodOffset(-12)) / #{DOSSIERS}.periodOffset(-12)", data)
        == 0.2
    )
    assert value("R{BC01.REPORTING_RATE} >= 80", data) == 1
    assert value("#{DOSSIERS} / C{POPULATION}", data) == 0.48
    assert value("if(isNull(#{MISSING}), 0, #{MISSING}) + #{DOSSIERS}", data) == 480


def test_items_are_unique_and_in_order_of_appearance() -> None:
    text = (
        "#{X}.periodOffset(-12) + #{X.ONLINE} + R{F1.REPORTING_RATE_ON_TIME} + C{PI} * "
        "N{IND}.yearToDate().aggregationType(LAST) + #{X} + #{X}.periodOffset(-6).periodOffset(-6)"
    )
    expression = parse(text)
    assert expression.items == (
        Item("element", "X", period_offset=-12),
        Item("element", "X", "ONLINE"),
        Item("reporting_rate", "F1", "REPORTING_RATE_ON_TIME"),
        Item("constant", "PI"),
        Item("indicator", "IND", year_to_date=True, aggregation="LAST"),
        Item("element", "X"),
    )
    first = expression.items[0]
    assert (first.start, first.end) == (0, len("#{X}.periodOffset(-12)"))
    assert text[first.start : first.end] == str(first)
    fifth = expression.items[4]
    assert text[fifth.start : fifth.end] == "N{IND}.yearToDate().aggregationType(LAST)"
    assert expression.codes("element") == ("X",)
    assert expression.codes("indicator") == ("IND",)
    assert expression.codes("constant") == ("PI",)
    assert expression.codes("reporting_rate") == ("F1",)
    assert Item("element", "X", start=3, end=7) == Item("element", "X")
    assert len({Item("element", "X", start=3), Item("element", "X", start=9)}) == 1


def test_modifiers_in_any_order_and_with_spaces() -> None:
    (item,) = parse("#{A}.aggregationType(MAX) . periodOffset( + 2 ).yearToDate()").items
    assert item == Item("element", "A", period_offset=2, year_to_date=True, aggregation="MAX")
    assert str(item) == "#{A}.periodOffset(2).yearToDate().aggregationType(MAX)"


def test_codes_accept_letters_digits_underscore_and_hyphen() -> None:
    (item,) = parse("#{DV_01-a.opt-2_X}").items
    assert (item.code, item.option) == ("DV_01-a", "opt-2_X")
    assert parse("#{" + "X" * 50 + "}").items[0].code == "X" * 50


def test_missing_value_policies() -> None:
    both = {"#{A}": 4.0, "#{B}": 2.0}
    only_a = {"#{A}": 4.0}
    for missing in ("skip_if_any_missing", "skip_if_all_missing", "never_skip"):
        assert value("#{A} + #{B}", both, missing=missing) == 6
    assert value("#{A} + #{B}", only_a, missing="skip_if_any_missing") is None
    assert value("#{A} + #{B}", only_a, missing="skip_if_all_missing") == 4
    assert value("#{A} + #{B}", only_a, missing="never_skip") == 4
    assert value("#{A} + #{B}", {}, missing="skip_if_all_missing") is None
    assert value("#{A} + #{B}", {}, missing="never_skip") == 0
    assert value("#{A} + #{B}", only_a) == 4  # the default is DHIS2's indicator behaviour
    assert value("#{B} / #{A}", {"#{A}": 4.0}) == 0
    assert value("#{A} / #{B}", {"#{A}": 4.0}) is None  # a zero denominator has no value


def test_null_aware_functions_see_missing_items_as_missing() -> None:
    only_a = {"#{A}": 4.0}
    assert value("#{A} + isNull(#{B})", only_a, missing="never_skip") == 5
    assert value("#{A} + firstNonNull(#{B}, 10)", only_a, missing="never_skip") == 14
    assert value("isNotNull(#{B} + #{A})", only_a, missing="never_skip") == 0
    # An item only tested for being missing does not make the expression skip.
    assert value("isNull(#{B})", {}, missing="skip_if_any_missing") == 1
    assert value("firstNonNull(#{B}, #{A})", only_a, missing="skip_if_any_missing") == 4
    # Used outside them too, the item counts: with nothing else present, the policy decides.
    assert value("isNull(#{B}) + #{B}", {}, missing="skip_if_all_missing") is None
    assert value("if(isNull(#{B}), -1, #{B})", {}, missing="skip_if_all_missing") is None
    assert value("if(isNull(#{B}), -1, #{B})", {}, missing="never_skip") == -1
    assert value("if(isNull(#{B}), -1, #{B})", {"#{B}": 3.0}) == 3


def test_constants_are_not_missing_data() -> None:
    assert value("#{A} * C{K}", {"C{K}": 3.0}, missing="skip_if_all_missing") is None
    assert value("#{A} * C{K}", {"C{K}": 3.0, "#{A}": 2.0}, missing="skip_if_any_missing") == 6
    assert value("C{K} + 1", {}, missing="never_skip") is None  # an unknown constant is no value
    assert value("C{K} + 1", {"C{K}": 1.0}, missing="skip_if_all_missing") == 2


def test_evaluate_values_follows_the_order_of_items() -> None:
    expression = parse("#{A} - #{B} * 2")
    assert expression.evaluate_values([10.0, 3.0]) == 4
    assert expression.evaluate_values([10.0, None], "skip_if_any_missing") is None
    with pytest.raises(ValueError, match="2 values expected, got 1"):
        expression.evaluate_values([1.0])
    with pytest.raises(ValueError, match="unknown missing-value policy 'sometimes'"):
        expression.evaluate_values([1.0, 2.0], "sometimes")  # type: ignore[arg-type]


def test_each_item_is_resolved_once_per_evaluation() -> None:
    asked: list[Item] = []

    def resolve(item: Item) -> float:
        asked.append(item)
        return 2.0

    assert parse("#{A} * #{A} + #{A} + C{K}").evaluate(resolve) == 8
    assert asked == [Item("element", "A"), Item("constant", "K")]


def test_long_flat_sums_are_wide_not_deep() -> None:
    text = " + ".join(f"#{{E{i}}}" for i in range(800))
    expression = parse(text)
    assert len(expression.items) == 800
    assert expression.tree.depth == 2
    assert expression.evaluate(lambda item: 1.0) == 800
    assert parse("1" + "-1" * 4000).evaluate(lambda item: None) == -3999


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("#{A} +", 6, "unexpected end of expression"),
        ("#{A}", None, None),
        ("#{A", 3, "missing '}' to close the item"),
        ("#{}", 2, "empty code in item"),
        ("#{A.}", 4, "empty code in item"),
        ("#{.B}", 2, "empty code in item"),
        ("#{" + "X" * 51 + "}", 2, "code longer than 50 characters"),
        ("foo(1)", 0, "unknown function 'foo'; functions: if, isNull"),
        ("IF(1, 2, 3)", 0, "unknown function 'IF'; did you mean if()?"),
        ("x + 1", 0, "unknown name 'x'"),
        ("if(1,2)", 0, "if() takes 3 arguments, got 2"),
        ("abs(1, 2)", 0, "abs() takes 1 argument, got 2"),
        ("1 + log(1, 2, 3)", 4, "log() takes 1 or 2 arguments, got 3"),
        ("greatest()", 0, "greatest() takes at least 1 argument, got 0"),
        ("if(1, 2, 3", 10, "expected ',' or ')' in if(), found end of expression"),
        ("if(1,,2)", 5, "unexpected ','"),
        ("if + 1", 3, "expected '(' after if, found '+'"),
        ("1 2", 2, "unexpected number '2'"),
        ("#{A}#{B}", 4, "unexpected item '#{B}'"),
        ("1 true", 2, "unexpected name 'true'"),
        ("#{ĐV}", 2, "unexpected 'Đ' in item code"),
        ("C{A B}", 3, "unexpected ' ' in item code (codes use letters, digits, _ and -)"),
        ("(1", 2, "expected ')' to close the '(' at position 0, found end of expression"),
        ("((1) + 2", 8, "expected ')' to close the '(' at position 0"),
        ("1)", 1, "unexpected ')'"),
        ("#{A} + )", 7, "unexpected ')'"),
        ("1 + * 2", 4, "unexpected '*'"),
        ("", 0, "empty expression"),
        ("  \n ", 0, "empty expression"),
        ("#{A}.periodOffset(x)", 18, "periodOffset() takes a whole number of periods"),
        ("#{A}.periodOffset(1.5)", 18, "periodOffset() takes a whole number of periods"),
        ("#{A}.periodOffset()", 18, "periodOffset() takes a whole number of periods"),
        ("#{A}.periodOffset(-12", 21, "expected ')' to close periodOffset("),
        ("#{A}.periodoffset(-12)", 5, "unknown modifier 'periodoffset'; modifiers: periodOffset"),
        ("#{A}.yearToDate(1)", 16, "expected ')' to close yearToDate("),
        ("#{A}.aggregationType(MEDIAN)", 21, "aggregationType() takes one of SUM, AVERAGE"),
        ("#{A}.", 5, "expected a modifier name after '.'"),
        ("#{A}.(", 5, "expected a modifier name after '.', found '('"),
        ("(#{A} + 1).yearToDate()", 10, "modifiers apply only to items"),
        ("abs(#{A}).yearToDate()", 9, "modifiers apply only to items"),
        ("C{K}.periodOffset(-1)", 4, "a constant takes no modifiers"),
        ("R{FORM}", 0, "a reporting rate is R{FORM.METRIC}"),
        ("R{FORM.RATE}", 7, "unknown reporting-rate metric 'RATE'; use one of REPORTING_RATE"),
        ("N{A.B}", 0, "an indicator is N{CODE}"),
        ("C{A.B}", 0, "a constant is C{CODE}"),
        ("#{A.B.C}", 0, "a data element is #{CODE} or #{CODE.OPTION}"),
        ("OUG{G1}", 0, "unsupported item type 'OUG{'"),
        ("1 + D{P.S}", 4, "unsupported item type 'D{'"),
        ("#A", 0, "unexpected character '#'; #{CODE} starts a data element"),
        ("1 = 2", 2, "unexpected character '='; use '==' to compare"),
        ("1 & 2", 2, "unexpected character '&'; use '&&'"),
        ("1 $ 2", 2, "unexpected character '$'"),
        ('"a"', 0, "unexpected character '\"'"),
        ("1e999", 0, "number 1e999 is too large"),
        ("#{A} + 1..5", 9, "unexpected number '.5'"),
        ("#{A} + .", 7, "unexpected '.'"),
    ],
)
def test_errors_name_the_position(text: str, position: int | None, message: str | None) -> None:
    if position is None:
        assert isinstance(parse(text), Expression)
        return
    with pytest.raises(ExpressionError) as error:
        parse(text)
    assert error.value.position == position
    assert error.value.message.startswith(message or "")
    assert error.value.expression == text


def test_errors_survive_pickling() -> None:
    # Errors cross process boundaries (worker pools) intact.
    with pytest.raises(ExpressionError) as error:
        parse("1 +")
    copy = pickle.loads(pickle.dumps(error.value))
    assert (copy.message, copy.position, copy.expression) == (
        "unexpected end of expression",
        3,
        "1 +",
    )
    assert str(copy) == str(error.value)


def test_error_text_and_pointer() -> None:
    with pytest.raises(ExpressionError) as error:
        parse("#{A} + )")
    assert str(error.value) == "unexpected ')' at position 7: #{A} + )"
    assert error.value.pointer() == "#{A} + )\n       ^"
    assert isinstance(error.value, ValueError)


def test_pointer_in_a_long_expression_shows_an_excerpt() -> None:
    text = "#{A} + " * 40 + "$ + #{B}" + "\n+ 1" * 30
    with pytest.raises(ExpressionError) as error:
        parse(text)
    line, caret = error.value.pointer().split("\n")
    assert len(line) <= 82
    assert line[caret.index("^")] == "$"
    assert line.startswith("…") and line.endswith("…")
    assert "\n" not in str(error.value)


def test_too_long_an_expression() -> None:
    with pytest.raises(ExpressionError, match="10001 characters long; the limit is 10000") as error:
        parse("1+" * 5000 + "1")
    assert error.value.position == 10_000
    assert parse("1+" * 4999 + "1").evaluate(lambda item: None) == 5000


@pytest.mark.parametrize(
    "text",
    [
        "(" * 4999 + "1" + ")" * 4999,
        "(" * 5000,
        "-" * 5000 + "1",
        "!" * 9000 + "1",
        "2^" * 4000 + "2",
        "abs(" * 1500 + "1" + ")" * 1500,
        "if(1, 2, " * 900 + "3" + ")" * 900,
        "1 || 1 && 1 == 1 < 1 + 1 * (" * 30 + "1" + ")" * 30,  # deep tree, shallow parentheses
    ],
)
def test_deep_nesting_is_an_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(ExpressionError, match=f"nested more than {MAX_DEPTH} levels deep"):
        parse(text)


def test_moderate_nesting_is_fine() -> None:
    assert value("(" * 90 + "1" + ")" * 90) == 1
    assert value("-" * 90 + "1") == 1
    assert value("abs(" * 40 + "-1" + ")" * 40) == 1


def test_to_text_round_trips() -> None:
    text = (
        "-2^2 + if(#{A}.periodOffset(-12) > 1 && !false, greatest(1, 2), N{X}) % 3"
        " - R{F.ACTUAL_REPORTS}"
    )
    tree = parse(text).tree
    printed = to_text(tree)
    assert printed == (
        "(-(2.0 ^ 2.0)) + (if((#{A}.periodOffset(-12) > 1.0) && (!false), greatest(1.0, 2.0), "
        "N{X}) % 3.0) - R{F.ACTUAL_REPORTS}"
    )
    assert parse(printed).tree == tree


def test_cycles_through_indicator_references() -> None:
    definitions: dict[str, Expression | list[Expression]] = {
        "A": parse("N{B} + 1"),
        "B": [parse("N{A}"), parse("N{C} * 2")],
        "C": parse("#{X}"),
        "SELF": parse("N{SELF} / 2"),
        "U": parse("N{UNKNOWN}"),
    }
    assert find_cycles(definitions) == [["A", "B", "A"], ["SELF", "SELF"]]
    assert find_cycles({"C": parse("#{X}"), "D": parse("N{C}")}) == []


def test_shortest_cycle_of_each_group_is_reported() -> None:
    definitions = {
        "P": parse("N{Q} + N{S}"),
        "Q": parse("N{R}"),
        "R": parse("N{P}"),
        "S": parse("N{P}"),
        "T": parse("N{T} + N{P}"),
    }
    assert find_cycles(definitions) == [["P", "S", "P"], ["T", "T"]]


def test_a_long_chain_of_indicators_does_not_recurse() -> None:
    size = 5000
    definitions = {f"I{i}": parse(f"N{{I{(i + 1) % size}}}") for i in range(size)}
    (cycle,) = find_cycles(definitions)
    assert len(cycle) == size + 1
    assert cycle[0] == cycle[-1] == "I0"
    assert cycle[1] == "I1"


def test_unknown_references() -> None:
    definitions: dict[str, Expression | list[Expression]] = {
        "A": parse("N{B} + N{GONE} + N{ALSO_GONE}"),
        "B": [parse("#{X}"), parse("N{MISSING}")],
        "C": parse("N{A}"),
    }
    assert unknown_references(definitions) == {"A": ["ALSO_GONE", "GONE"], "B": ["MISSING"]}


# --- fuzz ------------------------------------------------------------------------------------

CODES = st.sampled_from(["A", "B", "C_1", "d-2"])
ITEMS = st.one_of(
    st.builds(
        Item,
        kind=st.just("element"),
        code=CODES,
        option=st.none() | st.sampled_from(["ONLINE", "x_1"]),
        period_offset=st.integers(-24, 24),
        year_to_date=st.booleans(),
        aggregation=st.none() | st.sampled_from(AGGREGATION_TYPES),
    ),
    st.builds(Item, kind=st.just("constant"), code=CODES),
    st.builds(Item, kind=st.just("indicator"), code=CODES, period_offset=st.integers(-3, 3)),
    st.builds(
        Item, kind=st.just("reporting_rate"), code=CODES, option=st.sampled_from(REPORTING_METRICS)
    ),
)
LEAVES: st.SearchStrategy[Node] = st.one_of(
    st.floats(0, 1e6, allow_nan=False).map(lambda x: Number(abs(x))),
    st.integers(0, 10).map(lambda n: Number(float(n))),
    st.booleans().map(Boolean),
    ITEMS.map(ItemRef),
)
LEVELS = [["||"], ["&&"], ["==", "!="], ["<", "<=", ">", ">="], ["+", "-"], ["*", "/", "%"]]


@st.composite
def chains(draw: st.DrawFn, children: st.SearchStrategy[Node]) -> Node:
    ops = st.sampled_from(draw(st.sampled_from(LEVELS)))
    rest = draw(st.lists(st.tuples(ops, children), min_size=1, max_size=3))
    return Chain(draw(children), tuple(rest))


@st.composite
def calls(draw: st.DrawFn, children: st.SearchStrategy[Node]) -> Node:
    name = draw(st.sampled_from(sorted(FUNCTIONS)))
    fewest, most = FUNCTIONS[name]
    count = draw(st.integers(fewest, most if most is not None else fewest + 3))
    return Call(name, tuple(draw(children) for _ in range(count)))


def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(Unary, st.sampled_from(["-", "+", "!"]), children),
        chains(children),
        st.builds(Power, children, children),
        calls(children),
    )


TREES = st.recursive(LEAVES, extend, max_leaves=16)
VALUES = st.dictionaries(CODES, st.none() | st.floats(-100, 100, allow_nan=False))
POLICIES = st.sampled_from(["skip_if_any_missing", "skip_if_all_missing", "never_skip"])


@settings(max_examples=300, deadline=None)
@given(TREES, VALUES, POLICIES)
def test_generated_trees_print_parse_and_evaluate_alike(
    tree: Node, values: dict[str, float | None], missing: MissingValues
) -> None:
    text = to_text(tree)
    parsed = parse(text)
    assert parsed.tree == tree
    assert to_text(parsed.tree) == text
    direct = Expression(text, tree)
    assert parsed.items == direct.items

    def resolve(item: Item) -> float | None:
        return values.get(item.code)

    result = parsed.evaluate(resolve, missing)
    assert result == direct.evaluate(resolve, missing)
    assert result is None or math.isfinite(result)


ALPHABET = "#CNR{}().,+-*/%^!=<>&| 0123456789eE_ABXif\n"
TOKENS = st.sampled_from(
    ["#{A}", "#{B.X}", "C{K}", "N{I}", "R{F.REPORTING_RATE}", ".periodOffset(", ".yearToDate()",
     ".aggregationType(", "SUM", "if(", "isNull(", "firstNonNull(", "greatest(", "log(", "(", ")",
     ",", "+", "-", "*", "/", "^", "%", "&&", "||", "!", "==", "<", "and", "not", "true", "1", ".5",
     "1e3", " ", "-12", "{", "}", "#", "."]
)  # fmt: skip


def _parse_or_error(text: str) -> None:
    try:
        expression = parse(text)
    except ExpressionError as error:
        assert 0 <= error.position <= len(text)
        assert error.expression == text
        error.pointer()
        return
    # Whatever parses evaluates without raising and prints back to the same tree.
    result = expression.evaluate(lambda item: 1.0)
    assert result is None or math.isfinite(result)
    assert parse(to_text(expression.tree)).tree == expression.tree


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80) | st.text(alphabet=ALPHABET, max_size=80))
def test_any_text_parses_or_raises_expression_error(text: str) -> None:
    _parse_or_error(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(TOKENS, max_size=30).map("".join))
def test_token_soup_parses_or_raises_expression_error(text: str) -> None:
    _parse_or_error(text)
