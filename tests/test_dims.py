"""Symbolic dimensions: canonical forms, exact arithmetic and the text round trip."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specc.dims import (
    Dim,
    Expr,
    ceildiv,
    equal,
    exact_div,
    floordiv,
    format_dim,
    is_symbolic,
    min_value,
    parse_dim,
    product,
    substitute,
    symbol,
    symbols,
)

T = symbol("T")
U = symbol("U")


def conv_valid(x: Dim, kernel: int, stride: int) -> Dim:
    return floordiv(x - kernel, stride) + 1


# -- the forms shape inference relies on ------------------------------------------------------


def test_two_same_strides_collapse_into_one_ceil() -> None:
    assert format_dim(ceildiv(ceildiv(T, 2), 2)) == "ceil(T/4)"


def test_two_valid_strided_convs_collapse_into_one_floor() -> None:
    x2 = conv_valid(conv_valid(T, 3, 2), 3, 2)
    assert format_dim(x2) == "floor((T-3)/4)"
    assert x2 == floordiv(T - 3, 4)


def test_flattened_channels_keep_the_ceil() -> None:
    assert format_dim(product([ceildiv(T, 4), 20, 32])) == "640*ceil(T/4)"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2 * T + 1, "2*T+1"),
        (T - 3, "T-3"),
        (T * T, "T*T"),
        (5 - T, "-T+5"),
        (T * U + T + 7, "T*U+T+7"),
        (floordiv(T + 3, 4), "ceil(T/4)"),
        (floordiv(T + 1, 4), "floor((T+1)/4)"),
        (640 * floordiv(T - 3, 4), "640*floor((T-3)/4)"),
        (floordiv(2 * T, 6), "floor(T/3)"),
        (ceildiv(T, 1), "T"),
    ],
)
def test_format(value: Dim, text: str) -> None:
    assert format_dim(value) == text == str(value)
    assert parse_dim(text) == value


def test_constants_come_back_as_ints() -> None:
    assert T - T == 0 and isinstance(T - T, int)
    assert floordiv(4 * T + 2, 4) - T == 0
    assert product([2, 3, 4]) == 24 and product([]) == 1
    assert not is_symbolic(product([T, 0])) and is_symbolic(T)


def test_equal_values_built_differently_are_one_key() -> None:
    a = ceildiv(ceildiv(T, 2), 2)
    b = floordiv(T + 3, 4)
    assert a == b and hash(a) == hash(b) and len({a: 1, b: 2}) == 1
    assert (T + 1) * (T - 1) == T * T - 1


# -- division, products, substitution ---------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "quotient"),
    [
        (12, 4, 3),
        (12, 5, None),
        (12, 0, None),
        (640 * T, 20, 32 * T),
        (640 * T + 3, 20, None),
        (640 * T * T, T, 640 * T),
        (6 * T * U + 4 * T, 2 * T, 3 * U + 2),
        (T + 1, T, None),
        (T, T * T, None),
        (T + 1, T + 1, 1),
        (3, T, None),
    ],
)
def test_exact_div(a: Dim, b: Dim, quotient: Dim | None) -> None:
    assert exact_div(a, b) == quotient


def test_symbols_and_substitute() -> None:
    x = floordiv(T + U, 3) * T + 2
    assert symbols(x) == {"T", "U"} and symbols(5) == frozenset()
    assert substitute(x, {"T": 4, "U": 5}) == 3 * 4 + 2
    assert substitute(x, {"U": 2}) == floordiv(T + 2, 3) * T + 2
    assert substitute(x, {"V": 1}) == x and substitute(7, {"T": 1}) == 7


@pytest.mark.parametrize(
    ("value", "least"),
    [
        (floordiv(T - 3, 4), 7),
        (ceildiv(T, 4), 1),
        (floordiv(T - 11, 1) + 1, 11),
        (conv_valid(conv_valid(T, 7, 1), 5, 3), 11),
        (T * T - 99, 10),
        (5, 1),
        (0, None),
        (T - U, None),
        (floordiv(5 - T, 2), None),
        (T - T * T + 100, None),
    ],
)
def test_min_value(value: Dim, least: int | None) -> None:
    assert min_value(value, "T") == least


def test_divisor_must_be_positive() -> None:
    with pytest.raises(ValueError):
        floordiv(T, 0)
    with pytest.raises(ValueError):
        ceildiv(T, -2)


# -- text -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("T", T),
        (" batch_2 ", symbol("batch_2")),
        ("2 * ( T + 1 )", 2 * T + 2),
        ("-(T - 5)", 5 - T),
        ("floor( (T - 3) / 4 ) + 1", floordiv(T + 1, 4)),
        ("ceil(ceil(T/2)/2)", ceildiv(T, 4)),
        ("T*U*T", T * T * U),
    ],
)
def test_parse(text: str, value: Dim) -> None:
    assert parse_dim(text) == value


BAD_TEXTS = ["", "   ", "T/2", "(T+1)/2", "floor(T)", "floor(T/0)", "ceil(T/U)", "T +", "3 $ 4"]


@pytest.mark.parametrize("text", [*BAD_TEXTS, "(T", "T T", "floor", "2**T", "floor(T/2/2)"])
def test_parse_errors(text: str) -> None:
    with pytest.raises(ValueError, match="invalid dimension"):
        parse_dim(text)


@pytest.mark.parametrize("name", ["2T", "a-b", "", "floor", "ceil", "T "])
def test_bad_symbol_names(name: str) -> None:
    with pytest.raises(ValueError):
        symbol(name)


# -- properties: symbolic results agree with plain integer arithmetic -------------------------

# A tree is a leaf name or (op, children..., ints...); it is evaluated twice, once on Dims and
# once on ints, so each simplification rule is checked against Python's own // operator.
Tree = str | tuple
small = st.integers(-6, 6)
divisor = st.integers(1, 5)


def _extend(children: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
    return st.one_of(
        st.tuples(st.just("add_int"), children, small),
        st.tuples(st.just("mul_int"), children, small),
        st.tuples(st.just("add"), children, children),
        st.tuples(st.just("sub"), children, children),
        st.tuples(st.just("floordiv"), children, divisor),
        st.tuples(st.just("ceildiv"), children, divisor),
        st.tuples(st.just("conv"), children, st.integers(0, 4), st.integers(1, 7), divisor),
    )


trees = st.recursive(st.sampled_from(["T", "U"]), _extend, max_leaves=8)
# A product of two trees, kept apart so the polynomials stay small.
products = st.tuples(st.just("mul"), trees, trees)


def evaluate(tree: Tree, leaf: Callable[[str], Dim]) -> Dim:
    if isinstance(tree, str):
        return leaf(tree)
    op, x, *rest = tree
    a = evaluate(x, leaf)
    if op in ("add", "sub", "mul"):
        b = evaluate(rest[0], leaf)
        return a + b if op == "add" else a - b if op == "sub" else a * b
    if op == "add_int":
        return a + rest[0]
    if op == "mul_int":
        return a * rest[0]
    if op == "floordiv":
        return floordiv(a, rest[0])
    if op == "ceildiv":
        return ceildiv(a, rest[0])
    pad, kernel, stride = rest
    return floordiv(a + pad - kernel, stride) + 1


def evaluate_int(tree: Tree, env: dict[str, int]) -> int:
    """The same tree on plain ints, written with Python's operators rather than specc.dims."""
    if isinstance(tree, str):
        return env[tree]
    op, x, *rest = tree
    a = evaluate_int(x, env)
    if op in ("add", "sub", "mul"):
        b = evaluate_int(rest[0], env)
        return a + b if op == "add" else a - b if op == "sub" else a * b
    if op == "add_int":
        return a + rest[0]
    if op == "mul_int":
        return a * rest[0]
    if op == "floordiv":
        return a // rest[0]
    if op == "ceildiv":
        return -(-a // rest[0])
    pad, kernel, stride = rest
    return (a + pad - kernel) // stride + 1


values = st.integers(-40, 300)
envs = st.fixed_dictionaries({"T": values, "U": values})


@settings(max_examples=400, deadline=None)
@given(st.one_of(trees, products), envs)
def test_symbolic_matches_integer_arithmetic(tree: Tree, env: dict[str, int]) -> None:
    value = evaluate(tree, symbol)
    assert substitute(value, env) == evaluate_int(tree, env)
    assert parse_dim(format_dim(value)) == value
    partial = substitute(value, {"T": env["T"]})
    assert substitute(partial, env) == evaluate_int(tree, env)
    assert symbols(value) <= {"T", "U"}


@settings(max_examples=300, deadline=None)
@given(trees, trees, envs)
def test_equal_is_never_wrong(left: Tree, right: Tree, env: dict[str, int]) -> None:
    a, b = evaluate(left, symbol), evaluate(right, symbol)
    verdict = equal(a, b)
    same = evaluate_int(left, env) == evaluate_int(right, env)
    if verdict is True:
        assert same and a == b and hash(a) == hash(b)
    elif verdict is False:
        assert not same
    assert equal(a, a) is True


def conv_stack() -> st.SearchStrategy[list[tuple[int, int, int]]]:
    layer = st.tuples(st.integers(0, 4), st.integers(1, 7), divisor)
    return st.lists(layer, min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(conv_stack())
def test_min_value_is_the_least_input_that_fits(layers: list[tuple[int, int, int]]) -> None:
    x: Dim = T
    for pad, kernel, stride in layers:
        x = floordiv(x + pad - kernel, stride) + 1
    least = min_value(x, "T")
    assert least is not None and least >= 1
    assert isinstance(x, Expr)
    assert substitute(x, {"T": least}) >= 1  # type: ignore[operator]
    if least > 1:
        assert substitute(x, {"T": least - 1}) < 1  # type: ignore[operator]
