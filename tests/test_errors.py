"""Every error class: its code, its position (line:col) and the key facts in its message."""

from __future__ import annotations

import pytest
from conftest import codes_at, run, spec


def only(text: str) -> tuple[str, int, int, str]:
    result = run(text)
    assert len(result.diagnostics) == 1, [(d.code, d.message) for d in result.diagnostics]
    d = result.diagnostics[0]
    assert d.span is not None
    return d.code, d.span.line, d.span.col, d.message


def col(text: str, line: int, token: str) -> int:
    """The 1-based column where `token` first appears on `line` (how a reader finds the spot)."""
    return text.splitlines()[line - 1].index(token) + 1


def check_one(text: str, expected: tuple[str, int, str, str]) -> None:
    code, line, token, words = expected
    got = only(text)
    assert got[:3] == (code, line, col(text, line, token)), got
    assert words in got[3]


# spec() puts `layers:` on line 5, so the first layer is on line 6. Each case names the token
# the caret must point at.
SCHEMA_CASES = [
    (
        "- name: conv2\n  type: conv2d\n  filters: 8",
        ("E101", 6, "name", "conv2: missing required attribute 'kernel'"),
    ),
    (
        "- {type: conv2d, filters: 8, kernel: 3, kernal_x: 1}",
        ("E102", 6, "kernal_x", "did you mean 'kernel'?"),
    ),
    (
        "- {type: conv2D, filters: 8, kernel: 3}",
        ("E105", 6, "conv2D", "unknown layer type 'conv2D'; did you mean 'conv2d'?"),
    ),
    (
        "- {type: conv2d, filters: '8', kernel: 3}",
        ("E103", 6, "'8'", "'filters' must be an integer; got '8'"),
    ),
    (
        "- {type: conv2d, filters: 8.0, kernel: 3}",
        ("E103", 6, "8.0", "'filters' must be an integer; got 8.0"),
    ),
    (
        "- {type: conv2d, filters: 0, kernel: 3}",
        ("E104", 6, "0", "'filters' must be at least 1; got 0"),
    ),
    (
        "- {type: conv2d, filters: 8, kernel: [3, 0]}",
        ("E104", 6, "0]", "'kernel[1]' must be at least 1; got 0"),
    ),
    (
        "- {type: conv2d, filters: 8, kernel: 3, padding: sme}",
        ("E106", 6, "sme", "'padding' must be 'valid', 'same'"),
    ),
    ("- {type: dropout, rate: 1.5}", ("E104", 6, "1.5", "'rate' must be less than 1; got 1.5")),
    (
        "- {type: dropout, rate: .nan}",
        ("E103", 6, ".nan", "'rate' must be a finite number; got NaN"),
    ),
    ("- {type: dense, units: 4, activation: rellu}", ("E106", 6, "rellu", "did you mean 'relu'?")),
    ("- {type: relu, name: 'a.b'}", ("E106", 6, "'a.b'", "'name' must be a name of letters")),
    (
        "- {type: time_distributed, layer: {type: dense, units: 2, inputs: x}}",
        ("E102", 6, "inputs", "'layer.inputs' is not allowed in an inner layer"),
    ),
]


@pytest.mark.parametrize(("body", "expected"), SCHEMA_CASES)
def test_schema_errors(body: str, expected: tuple[str, int, str, str]) -> None:
    check_one(spec(body), expected)


def test_unknown_attribute_is_reported_at_its_key_with_the_layer_name() -> None:
    body = "- name: conv2\n  type: conv2d\n  filters: 8\n  kernel: 3\n  kernel_size: 3"
    code, line, column, message = only(spec(body))
    assert (code, line, column) == ("E102", 10, 5)
    assert message == "conv2: unknown attribute 'kernel_size'; did you mean 'kernel'?"


def test_spec_level_errors() -> None:
    assert codes_at("specc: 2\nname: t\ninputs: {x: [1]}\nlayers: [{type: relu}]\n") == [
        ("E107", 1, 8)
    ]
    assert codes_at("specc: 1\ninputs: {x: [1]}\nlayers: [{type: relu}]\n") == [("E101", 1, 1)]
    assert codes_at("specc: 1\nname: t\ninputs: {x: [1]}\nlayers: []\n") == [("E108", 4, 9)]
    assert codes_at(
        "specc: 1\nname: t\ninputs: {x: [0, 1a]}\nlayers: [{type: relu}]\nextra: 1\n"
    ) == [
        ("E104", 3, 14),
        ("E106", 3, 17),
        ("E102", 5, 1),
    ]


def test_all_schema_errors_are_reported_at_once() -> None:
    body = "- {type: conv2d, filters: 0, kernel: 3}\n- {type: dense}\n- {type: relu, alpha: 1}"
    assert [c for c, _, _ in codes_at(spec(body))] == ["E104", "E101", "E102"]


GRAPH_CASES = [
    ("- {type: relu, inputs: y}", ("S001", 6, "y}", "relu_1: reads from unknown 'y'")),
    ("- {type: relu, inputs: xx}", ("S001", 6, "xx", "did you mean 'x'?")),
    ("- {name: a, type: relu, inputs: a}", ("S002", 6, "a}", "a: reads from itself")),
    (
        "- {name: a, type: relu, inputs: b}\n- {name: b, type: relu}",
        ("S002", 6, "b}", "layer 2 'b', which comes later"),
    ),
    (
        "- {name: a, type: relu}\n- {name: a, type: relu}",
        ("S003", 7, "a,", "a: the name is already used by layer 1"),
    ),
    ("- {name: x, type: relu}", ("S003", 6, "x,", "already used by an input")),
    ("- {type: add}", ("S005", 6, "{", "add takes at least 2 inputs; got 1")),
    ("- {type: relu, inputs: [x, x]}", ("S005", 6, "[", "relu takes 1 input; got 2")),
]


@pytest.mark.parametrize(("body", "expected"), GRAPH_CASES)
def test_graph_errors(body: str, expected: tuple[str, int, str, str]) -> None:
    check_one(spec(body), expected)


def test_ambiguous_and_unknown_outputs() -> None:
    two = "specc: 1\nname: t\ninputs:\n  a: [3]\n  b: [3]\nlayers:\n  - {type: relu}\n"
    assert codes_at(two) == [("S004", 7, 5)]  # the first layer's mapping
    out = "specc: 1\nname: t\ninputs: {x: [3]}\nlayers:\n  - {type: relu}\noutputs: [relu1]\n"
    check_one(out, ("S001", 6, "relu1", "did you mean 'relu_1'?"))


SHAPE_CASES = [
    (
        "- {name: c56, type: conv2d, filters: 64, kernel: 1, inputs: x}\n"
        "- {name: c28, type: conv2d, filters: 64, kernel: 1, stride: 2, inputs: x}\n"
        "- {name: sum, type: add, inputs: [c56, c28]}",
        "x: [56, 56, 3]",
        (
            "S102",
            8,
            "{",
            "sum: add: inputs have shapes (56, 56, 64) and (28, 28, 64); they must be equal",
        ),
    ),
    (
        "- {name: a, type: dense, units: 4}\n- {name: c, type: concat, axis: 0, inputs: [a, x]}",
        "x: [3, 3]",
        (
            "S102",
            7,
            "{",
            "c: concat: inputs have shapes (3, 4) and (3, 3); all axes but 0 must be equal, axis 1 is not",
        ),
    ),
    (
        "- {type: flatten, name: f}\n- {type: concat, inputs: [f, x]}",
        "x: [2, 2]",
        ("S102", 7, "{", "their ranks differ"),
    ),
    (
        "- {type: concat, axis: 3, inputs: [x, x]}",
        "x: [2, 2]",
        ("S106", 6, "3", "axis 3 is out of range for rank 2"),
    ),
    (
        "- {type: conv2d, filters: 8, kernel: 3, groups: 3}",
        "x: [9, 9, 4]",
        ("S103", 6, "3}", "groups=3 does not divide the 4 input channels"),
    ),
    (
        "- {type: conv2d, filters: 8, kernel: 3, groups: 3}",
        "x: [9, 9, 6]",
        ("S103", 6, "3}", "does not divide filters=8"),
    ),
    (
        "- {type: conv2d, filters: 8, kernel: 11}",
        "x: [10, 10, 1]",
        ("S104", 6, "{", "spatial axis 0 shrinks to zero or below"),
    ),
    (
        "- {type: conv2d, filters: 8, kernel: 3, dilation: 5}",
        "x: [10, 10, 1]",
        ("S104", 6, "{", "(dilated to 11)"),
    ),
    ("- {type: max_pool2d, pool: 4}", "x: [3, 10, 1]", ("S104", 6, "{", "pool window")),
    (
        "- {type: conv2d, filters: 8, kernel: 3}",
        "x: [28, 28]",
        (
            "S101",
            6,
            "{",
            "conv2d expects an input of rank 3 (height, width, channels); got (28, 28)",
        ),
    ),
    (
        "- {type: conv2d, filters: 8, kernel: 3}",
        "x: [28, 28]",
        ("S101", 6, "{", "a single channel is written as an axis of 1: (28, 28, 1)"),
    ),
    (
        "- {type: conv2d, filters: 8, kernel: [3]}",
        "x: [9, 9, 1]",
        ("S107", 6, "[", "kernel has 1 entry [3]; this layer has 2 spatial axes"),
    ),
    (
        "- {type: conv1d, filters: 8, kernel: [3, 3]}",
        "x: [9, 1]",
        ("S107", 6, "[", "kernel has 2 entries [3, 3]; this layer has 1 spatial axis"),
    ),
    (
        "- {type: conv2d, filters: 8, kernel: [3, 3, 3]}",
        "x: [9, 9, 1]",
        ("S107", 6, "[", "kernel has 3 entries [3, 3, 3]"),
    ),
    (
        "- {type: reshape, shape: [5, -1]}",
        "x: [4, 4]",
        ("S105", 6, "[", "16 is not divisible by 5"),
    ),
    (
        "- {type: reshape, shape: [3, 5]}",
        "x: [4, 4]",
        ("S105", 6, "[", "(16 elements) into (3, 5) (15 elements)"),
    ),
    ("- {type: reshape, shape: [-1, -1]}", "x: [4, 4]", ("S105", 6, "[", "more than one -1")),
    ("- {type: global_avg_pool}", "x: [4]", ("S101", 6, "{", "rank 2 or more")),
]


@pytest.mark.parametrize(("body", "inputs", "expected"), SHAPE_CASES)
def test_shape_errors(body: str, inputs: str, expected: tuple[str, int, str, str]) -> None:
    check_one(spec(body, inputs), expected)


def test_rank_hint_only_for_a_missing_channel_axis() -> None:
    code, _, _, message = only(spec("- {type: conv1d, filters: 8, kernel: 3}", "x: [9, 9, 1]"))
    assert code == "S101"
    assert "got (9, 9, 1) of rank 3" in message and "axis of 1" not in message


def test_inference_goes_on_past_errors() -> None:
    body = (
        "- {name: bad1, type: conv2d, filters: 8, kernel: 30, inputs: x}\n"
        "- {name: after, type: relu}\n"  # reads bad1: skipped silently, no cascade
        "- {name: bad2, type: dense, units: 0, inputs: x}\n"  # schema error in another layer
        "- {name: bad3, type: add, inputs: [x, ok]}\n"
        "- {name: ok, type: conv2d, filters: 2, kernel: 1, inputs: x}\n"
        "- {name: bad4, type: add, inputs: [x, ok]}\n"
    )
    assert [c for c, _, _ in codes_at(spec(body))] == ["S104", "E104", "S002", "S102"]
