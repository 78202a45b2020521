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


# line numbers: spec() puts `layers:` on line 5, so the first layer starts on line 6 col 3
SCHEMA_CASES = [
    # unknown attribute, with did-you-mean, at the key
    (
        "- name: conv2\n  type: conv2d\n  filters: 8\n  kernel_size: 3",
        ("E101", 6, 3, "conv2: missing required attribute 'kernel'"),
    ),
    ("- {type: conv2d, filters: 8, kernel: 3, kernal_x: 1}", ("E102", 6, 40, "did you mean 'kernel'?")),
    ("- {type: conv2D, filters: 8, kernel: 3}", ("E105", 6, 10, "unknown layer type 'conv2D'; did you mean 'conv2d'?")),
    ("- {type: conv2d, filters: '8', kernel: 3}", ("E103", 6, 27, "'filters' must be an integer; got '8'")),
    ("- {type: conv2d, filters: 8.0, kernel: 3}", ("E103", 6, 27, "'filters' must be an integer; got 8.0")),
    ("- {type: conv2d, filters: 0, kernel: 3}", ("E104", 6, 27, "'filters' must be at least 1; got 0")),
    ("- {type: conv2d, filters: 8, kernel: [3, 0]}", ("E104", 6, 42, "'kernel[1]' must be at least 1; got 0")),
    ("- {type: conv2d, filters: 8, kernel: 3, padding: sme}", ("E106", 6, 49, "'padding' must be 'valid', 'same'")),
    ("- {type: dropout, rate: 1.5}", ("E104", 6, 25, "'rate' must be less than 1; got 1.5")),
    ("- {type: dropout, rate: .nan}", ("E103", 6, 25, "'rate' must be a finite number; got NaN")),
    ("- {type: dense, units: 4, activation: rellu}", ("E106", 6, 38, "did you mean 'relu'?")),
    ("- {type: relu, name: 'a.b'}", ("E106", 6, 22, "'name' must be a name of letters")),
    (
        "- {type: time_distributed, layer: {type: dense, units: 2, inputs: x}}",
        ("E102", 6, 59, "'layer.inputs' is not allowed in an inner layer"),
    ),
]


@pytest.mark.parametrize(("body", "expected"), SCHEMA_CASES)
def test_schema_errors(body: str, expected: tuple[str, int, int, str]) -> None:
    code, line, col, message = only(spec(body))
    assert (code, line, col) == expected[:3]
    assert expected[3] in message


def test_unknown_attribute_is_reported_at_its_key_with_the_layer_name() -> None:
    body = "- name: conv2\n  type: conv2d\n  filters: 8\n  kernel: 3\n  kernel_size: 3"
    code, line, col, message = only(spec(body))
    assert (code, line, col) == ("E102", 10, 3)
    assert message == "conv2: unknown attribute 'kernel_size'; did you mean 'kernel'?"


def test_spec_level_errors() -> None:
    assert codes_at("specc: 2\nname: t\ninputs: {x: [1]}\nlayers: [{type: relu}]\n") == [("E107", 1, 8)]
    assert codes_at("specc: 1\ninputs: {x: [1]}\nlayers: [{type: relu}]\n") == [("E101", 1, 1)]
    assert codes_at("specc: 1\nname: t\ninputs: {x: [1]}\nlayers: []\n") == [("E108", 4, 9)]
    assert codes_at("specc: 1\nname: t\ninputs: {x: [0, 1a]}\nlayers: [{type: relu}]\nextra: 1\n") == [
        ("E106", 3, 13), ("E106", 3, 16), ("E102", 5, 1),
    ]


def test_all_schema_errors_are_reported_at_once() -> None:
    body = "- {type: conv2d, filters: 0, kernel: 3}\n- {type: dense}\n- {type: relu, alpha: 1}"
    assert [c for c, _, _ in codes_at(spec(body))] == ["E104", "E101", "E102"]


GRAPH_CASES = [
    ("- {type: relu, inputs: y}", ("S001", 6, 24, "relu_1: reads from unknown 'y'")),
    ("- {type: relu, inputs: xx}", ("S001", 6, 24, "did you mean 'x'?")),
    ("- {name: a, type: relu, inputs: a}", ("S002", 6, 33, "a: reads from itself")),
    ("- {name: a, type: relu, inputs: b}\n- {name: b, type: relu}", ("S002", 6, 33, "layer 2 'b', which comes later")),
    ("- {name: a, type: relu}\n- {name: a, type: relu}", ("S003", 7, 10, "a: the name is already used by layer 1")),
    ("- {name: x, type: relu}", ("S003", 6, 10, "already used by an input")),
    ("- {type: add}", ("S005", 6, 3, "add takes at least 2 inputs; got 1")),
    ("- {type: relu, inputs: [x, x]}", ("S005", 6, 24, "relu takes 1 input; got 2")),
]


@pytest.mark.parametrize(("body", "expected"), GRAPH_CASES)
def test_graph_errors(body: str, expected: tuple[str, int, int, str]) -> None:
    code, line, col, message = only(spec(body))
    assert (code, line, col) == expected[:3]
    assert expected[3] in message


def test_ambiguous_and_unknown_outputs() -> None:
    two = "specc: 1\nname: t\ninputs:\n  a: [3]\n  b: [3]\nlayers:\n  - {type: relu}\n"
    assert codes_at(two) == [("S004", 7, 5)]
    out = "specc: 1\nname: t\ninputs: {x: [3]}\nlayers:\n  - {type: relu}\noutputs: [relu1]\n"
    code, line, col, message = only(out)
    assert (code, line, col) == ("S001", 6, 11)
    assert "did you mean 'relu_1'?" in message


SHAPE_CASES = [
    (
        "- {name: c56, type: conv2d, filters: 64, kernel: 1, inputs: x}\n"
        "- {name: c28, type: conv2d, filters: 64, kernel: 1, stride: 2, inputs: x}\n"
        "- {name: sum, type: add, inputs: [c56, c28]}",
        "x: [56, 56, 3]",
        ("S102", 8, 3, "sum: add: inputs have shapes (56, 56, 64) and (28, 28, 64); they must be equal"),
    ),
    (
        "- {name: a, type: dense, units: 4}\n- {name: c, type: concat, inputs: [a, x]}",
        "x: [3, 3]",
        ("S102", 7, 3, "c: concat: inputs have shapes (3, 4) and (3, 3); all axes but -1 must be equal, axis 0 is not"),
    ),
    ("- {type: flatten, name: f}\n- {type: concat, inputs: [f, x]}", "x: [2, 2]", ("S102", 7, 3, "their ranks differ")),
    ("- {type: concat, axis: 3, inputs: [x, x]}", "x: [2, 2]", ("S106", 6, 23, "axis 3 is out of range for rank 2")),
    ("- {type: conv2d, filters: 8, kernel: 3, groups: 3}", "x: [9, 9, 4]", ("S103", 6, 49, "groups=3 does not divide the 4 input channels")),
    ("- {type: conv2d, filters: 8, kernel: 3, groups: 3}", "x: [9, 9, 6]", ("S103", 6, 49, "does not divide filters=8")),
    ("- {type: conv2d, filters: 8, kernel: 11}", "x: [10, 10, 1]", ("S104", 6, 3, "spatial axis 0 shrinks to zero or below")),
    ("- {type: conv2d, filters: 8, kernel: 3, dilation: 5}", "x: [10, 10, 1]", ("S104", 6, 3, "(dilated to 11)")),
    ("- {type: max_pool2d, pool: 4}", "x: [3, 10, 1]", ("S104", 6, 3, "pool window")),
    ("- {type: conv2d, filters: 8, kernel: 3}", "x: [28, 28]", ("S101", 6, 3, "conv2d expects an input of rank 3 (height, width, channels); got (28, 28)")),
    ("- {type: conv2d, filters: 8, kernel: [3, 3, 3]}", "x: [9, 9, 1]", ("S107", 6, 38, "kernel has 3 entries [3, 3, 3]")),
    ("- {type: reshape, shape: [5, -1]}", "x: [4, 4]", ("S105", 6, 26, "16 is not divisible by 5")),
    ("- {type: reshape, shape: [3, 5]}", "x: [4, 4]", ("S105", 6, 26, "(16 elements) into (3, 5) (15 elements)")),
    ("- {type: reshape, shape: [-1, -1]}", "x: [4, 4]", ("S105", 6, 26, "more than one -1")),
    ("- {type: global_avg_pool}", "x: [4]", ("S101", 6, 3, "rank 2 or more")),
]


@pytest.mark.parametrize(("body", "inputs", "expected"), SHAPE_CASES)
def test_shape_errors(body: str, inputs: str, expected: tuple[str, int, int, str]) -> None:
    code, line, col, message = only(spec(body, inputs))
    assert (code, line, col) == expected[:3]
    assert expected[3] in message


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
