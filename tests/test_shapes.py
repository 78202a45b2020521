"""Output shapes, kernel shapes and parameter counts of every layer type, computed by hand."""

from __future__ import annotations

import pytest
from conftest import run, spec

from specc.dims import format_dim
from specc.ir import format_shape


def layer(text: str, inputs: str = "x: [28, 28, 3]") -> tuple[str, str | None, int | str]:
    """(output shape, kernel shape, params) of the last layer of the spec."""
    result = run(spec(text, inputs))
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.shapes is not None
    info = list(result.shapes.layers.values())[-1]
    kernel = next((p.shape for p in info.params if p.name == "kernel"), None)
    count = info.param_count
    return (
        format_shape(info.output.shape),
        None if kernel is None else format_shape(kernel),
        count if isinstance(count, int) else format_dim(count),
    )


CASES = [
    # conv2d: out = floor((n + pads - d*(k-1) - 1) / s) + 1; params = f*(k*k*c/g) + f
    (
        "- {type: conv2d, filters: 8, kernel: 3}",
        "x: [28, 28, 3]",
        ("(26, 26, 8)", "(3, 3, 3, 8)", 8 * 27 + 8),
    ),
    (
        "- {type: conv2d, filters: 8, kernel: 3, padding: same}",
        "x: [28, 28, 3]",
        ("(28, 28, 8)", "(3, 3, 3, 8)", 224),
    ),
    (
        "- {type: conv2d, filters: 8, kernel: 3, stride: 2, padding: same}",
        "x: [28, 27, 3]",
        ("(14, 14, 8)", "(3, 3, 3, 8)", 224),
    ),
    (
        "- {type: conv2d, filters: 8, kernel: 3, stride: 2}",
        "x: [28, 27, 3]",
        ("(13, 13, 8)", "(3, 3, 3, 8)", 224),
    ),
    (
        "- {type: conv2d, filters: 4, kernel: [3, 5], stride: [1, 2]}",
        "x: [10, 11, 2]",
        ("(8, 4, 4)", "(3, 5, 2, 4)", 4 * 30 + 4),
    ),
    # dilation 2 on a 3-kernel covers 5 pixels
    (
        "- {type: conv2d, filters: 4, kernel: 3, dilation: 2}",
        "x: [10, 10, 1]",
        ("(6, 6, 4)", "(3, 3, 1, 4)", 40),
    ),
    (
        "- {type: conv2d, filters: 4, kernel: 3, dilation: [2, 1], padding: same}",
        "x: [10, 9, 1]",
        ("(10, 9, 4)", "(3, 3, 1, 4)", 40),
    ),
    # explicit padding: int, per axis, pairs
    (
        "- {type: conv2d, filters: 2, kernel: 3, padding: 1}",
        "x: [5, 5, 1]",
        ("(5, 5, 2)", "(3, 3, 1, 2)", 20),
    ),
    (
        "- {type: conv2d, filters: 2, kernel: 3, padding: [2, 0]}",
        "x: [5, 5, 1]",
        ("(7, 3, 2)", "(3, 3, 1, 2)", 20),
    ),
    (
        "- {type: conv2d, filters: 2, kernel: 3, padding: [[1, 2], [0, 3]]}",
        "x: [5, 5, 1]",
        ("(6, 6, 2)", "(3, 3, 1, 2)", 20),
    ),
    # groups: kernel sees C_in/groups channels
    (
        "- {type: conv2d, filters: 8, kernel: 3, groups: 4}",
        "x: [9, 9, 16]",
        ("(7, 7, 8)", "(3, 3, 4, 8)", 8 * 36 + 8),
    ),
    (
        "- {type: conv2d, filters: 8, kernel: 3, bias: false}",
        "x: [9, 9, 2]",
        ("(7, 7, 8)", "(3, 3, 2, 8)", 144),
    ),
    # conv1d, conv3d
    (
        "- {type: conv1d, filters: 6, kernel: 5, stride: 2}",
        "x: [100, 4]",
        ("(48, 6)", "(5, 4, 6)", 6 * 20 + 6),
    ),
    (
        "- {type: conv1d, filters: 6, kernel: 4, padding: same}",
        "x: [T, 4]",
        ("(T, 6)", "(4, 4, 6)", 102),
    ),
    (
        "- {type: conv3d, filters: 2, kernel: [1, 3, 3]}",
        "x: [4, 8, 8, 3]",
        ("(4, 6, 6, 2)", "(1, 3, 3, 3, 2)", 2 * 27 + 2),
    ),
    (
        "- {type: conv3d, filters: 2, kernel: 3, stride: 2, padding: same}",
        "x: [5, 8, 7, 1]",
        ("(3, 4, 4, 2)", "(3, 3, 3, 1, 2)", 56),
    ),
    # depthwise: (kh, kw, C_in, multiplier), C_in*multiplier outputs
    (
        "- {type: depthwise_conv2d, kernel: 3}",
        "x: [8, 8, 5]",
        ("(6, 6, 5)", "(3, 3, 5, 1)", 45 + 5),
    ),
    (
        "- {type: depthwise_conv2d, kernel: 3, multiplier: 2, stride: 2, padding: same}",
        "x: [8, 8, 5]",
        ("(4, 4, 10)", "(3, 3, 5, 2)", 90 + 10),
    ),
    # transpose: (kh, kw, filters, C_in); valid n*s + max(k-s, 0), same n*s
    (
        "- {type: conv2d_transpose, filters: 4, kernel: 3, stride: 2}",
        "x: [7, 7, 8]",
        ("(15, 15, 4)", "(3, 3, 4, 8)", 4 * 72 + 4),
    ),
    (
        "- {type: conv2d_transpose, filters: 4, kernel: 3, stride: 2, padding: same}",
        "x: [7, 7, 8]",
        ("(14, 14, 4)", "(3, 3, 4, 8)", 292),
    ),
    (
        "- {type: conv2d_transpose, filters: 1, kernel: 1, stride: 3}",
        "x: [2, 5, 1]",
        ("(6, 15, 1)", "(1, 1, 1, 1)", 2),
    ),
    # dense acts on the last axis
    ("- {type: dense, units: 10}", "x: [64]", ("(10,)", "(64, 10)", 650)),
    ("- {type: dense, units: 10, bias: false}", "x: [4, 4, 64]", ("(4, 4, 10)", "(64, 10)", 640)),
    # pooling: stride defaults to the pool; same is ceil(n/s)
    ("- {type: max_pool2d}", "x: [7, 7, 3]", ("(3, 3, 3)", None, 0)),
    ("- {type: max_pool2d, pool: 3, stride: 2}", "x: [7, 8, 3]", ("(3, 3, 3)", None, 0)),
    ("- {type: avg_pool2d, pool: 2, padding: same}", "x: [7, 8, 3]", ("(4, 4, 3)", None, 0)),
    ("- {type: max_pool1d, pool: 4}", "x: [T, 3]", ("(floor(T/4), 3)", None, 0)),
    ("- {type: avg_pool3d, pool: [1, 2, 2]}", "x: [3, 8, 9, 2]", ("(3, 4, 4, 2)", None, 0)),
    ("- {type: avg_pool1d, pool: 3, stride: 1, padding: same}", "x: [5, 2]", ("(5, 2)", None, 0)),
    ("- {type: max_pool3d, pool: 2, padding: same}", "x: [3, 5, 4, 2]", ("(2, 3, 2, 2)", None, 0)),
    ("- {type: global_avg_pool}", "x: [7, 7, 32]", ("(32,)", None, 0)),
    ("- {type: global_max_pool}", "x: [T, 12]", ("(12,)", None, 0)),
    # batch norm: gamma, beta trainable; moving statistics not
    ("- {type: batch_norm}", "x: [5, 5, 6]", ("(5, 5, 6)", None, 24)),
    ("- {type: batch_norm, scale: false, epsilon: 0.00001}", "x: [6]", ("(6,)", None, 18)),
    # activations
    *[
        (f"- {{type: {a}}}", "x: [3, 4]", ("(3, 4)", None, 0))
        for a in ("relu", "relu6", "sigmoid", "tanh", "softmax", "gelu", "silu", "elu")
    ],
    ("- {type: leaky_relu, alpha: 0.1}", "x: [3]", ("(3,)", None, 0)),
    ("- {type: dropout, rate: 0.5}", "x: [3, 4]", ("(3, 4)", None, 0)),
    # reshaping
    ("- {type: flatten}", "x: [7, 7, 32]", ("(1568,)", None, 0)),
    ("- {type: flatten}", "x: [T, 80, 3]", ("(240*T,)", None, 0)),
    ("- {type: reshape, shape: [-1, 32]}", "x: [7, 7, 32]", ("(49, 32)", None, 0)),
    ("- {type: reshape, shape: [T, -1]}", "x: [T, 20, 32]", ("(T, 640)", None, 0)),
    ("- {type: zero_pad2d}", "x: [5, 6, 2]", ("(7, 8, 2)", None, 0)),
    ("- {type: zero_pad2d, padding: [[1, 2], 0]}", "x: [5, 6, 2]", ("(8, 6, 2)", None, 0)),
    ("- {type: zero_pad1d, padding: 3}", "x: [T, 2]", ("(T+6, 2)", None, 0)),
    ("- {type: zero_pad3d, padding: [0, 1, 2]}", "x: [2, 2, 2, 1]", ("(2, 4, 6, 1)", None, 0)),
    ("- {type: upsample2d}", "x: [5, 6, 2]", ("(10, 12, 2)", None, 0)),
    ("- {type: upsample2d, size: [3, 1]}", "x: [5, 6, 2]", ("(15, 6, 2)", None, 0)),
    # time_distributed: the inner layer sees shape[1:]
    (
        "- {type: time_distributed, layer: {type: conv2d, filters: 4, kernel: 3}}",
        "x: [T, 9, 9, 2]",
        ("(T, 7, 7, 4)", "(3, 3, 2, 4)", 76),
    ),
    ("- {type: time_distributed, layer: {type: flatten}}", "x: [6, 4, 4, 2]", ("(6, 32)", None, 0)),
]


@pytest.mark.parametrize(("body", "inputs", "expected"), CASES)
def test_layer_shapes(body: str, inputs: str, expected: tuple[str, str | None, int]) -> None:
    assert layer(body, inputs) == expected


def test_merges() -> None:
    text = spec(
        """
        - {name: a, type: conv2d, filters: 4, kernel: 3, padding: same, inputs: x}
        - {name: b, type: conv2d, filters: 6, kernel: 1, inputs: x}
        - {name: cat, type: concat, inputs: [a, b, x]}
        - {name: cat0, type: concat, axis: 0, inputs: [a, a]}
        - {name: s, type: add, inputs: [a, a, a]}
        - {name: m, type: multiply, inputs: [s, a]}
        """,
        "x: [8, 8, 3]",
    )
    result = run(text)
    assert result.ok
    assert result.shapes is not None
    out = {n: str(i.output) for n, i in result.shapes.layers.items()}
    assert out["cat"] == "(8, 8, 13)"
    assert out["cat0"] == "(16, 8, 4)"
    assert out["s"] == out["m"] == "(8, 8, 4)"


def test_symbolic_front_ends() -> None:
    same = spec(
        """
        - {type: conv2d, filters: 32, kernel: 3, stride: 2, padding: same}
        - {type: conv2d, filters: 32, kernel: 3, stride: 2, padding: same}
        """,
        "x: [T, 80, 3]",
    )
    valid = same.replace("padding: same", "padding: valid")
    assert layer_output(same) == "(ceil(T/4), 20, 32)"
    # 80 -> floor(77/2)+1 = 39 -> floor(36/2)+1 = 19
    assert layer_output(valid) == "(floor((T-3)/4), 19, 32)"


def layer_output(text: str) -> str:
    result = run(text)
    assert result.shapes is not None and result.ok
    return str(list(result.shapes.layers.values())[-1].output)


def test_default_names_and_outputs() -> None:
    result = run(spec("- {type: relu}\n- {type: relu}"))
    assert result.model is not None
    assert [layer.name for layer in result.model.layers] == ["relu_1", "relu_2"]
    assert result.model.outputs == ("relu_2",)
    assert result.model.layers[1].inputs == ("relu_1",)


# -- merges that agree only for some values of a symbol -----------------------------------
ASSUME = "if they always do, declare it: assume: [{}]"


def merge_notes(body: str, inputs: str) -> list[tuple[str, list[str]]]:
    result = run(spec(body, inputs))
    return [(d.code, [n.message for n in d.notes]) for d in result.diagnostics]


def test_a_skip_connection_over_a_halving_says_which_lengths_fit() -> None:
    # down has ceil(T/2) rows, up 2*ceil(T/2): equal to T exactly when T is even.
    body = (
        "- {name: down, type: conv2d, filters: 4, kernel: 3, stride: 2, padding: same}\n"
        "- {name: up, type: upsample2d}\n"
        "- {name: skip, type: add, inputs: [x, up]}"
    )
    assert merge_notes(body, "x: [T, 8, 4]") == [
        ("S102", ["the shapes agree only when T is a multiple of 2", ASSUME.format('"T % 2 == 0"')])
    ]
    two_halvings = (
        "- {name: d1, type: max_pool2d, pool: [2, 1], padding: same}\n"
        "- {name: d2, type: max_pool2d, pool: [2, 1], padding: same}\n"
        "- {name: up, type: upsample2d, size: [4, 1]}\n"
        "- {name: cat, type: concat, inputs: [up, x]}"
    )
    assert merge_notes(two_halvings, "x: [T, 3, 2]") == [
        ("S102", ["the shapes agree only when T is a multiple of 4", ASSUME.format('"T % 4 == 0"')])
    ]


def test_no_note_when_no_value_or_no_condition_per_symbol_would_fit() -> None:
    never = "- {name: c, type: conv2d, filters: 4, kernel: 3}\n- {type: add, inputs: [x, c]}"
    assert merge_notes(never, "x: [T, 8, 4]") == [("S102", [])]  # T - 2 is never T
    two = "- {type: add, inputs: [x, y]}"
    assert merge_notes(two, "x: [T, 8, 4]\n  y: [U, 8, 4]") == [("S102", [])]


def test_a_skip_over_two_symbols_names_a_condition_on_each() -> None:
    # floor(H/2) pooled then doubled is 2*floor(H/2): H only when H is even; W alike, by 4.
    body = (
        "- {name: d, type: max_pool2d, pool: [2, 4]}\n"
        "- {name: up, type: upsample2d, size: [2, 4]}\n"
        "- {name: cat, type: concat, inputs: [up, x]}"
    )
    clause = "the shapes agree only when H is a multiple of 2 and W is a multiple of 4"
    assert merge_notes(body, "x: [H, W, 3]") == [
        ("S102", [clause, ASSUME.format('"H % 2 == 0", "W % 4 == 0"')])
    ]
    # Two halvings then one doubling on H meet a single halving: floor(H/4)*2 == floor(H/2)
    # when H mod 4 is 0 or 1; multiples of 4 suffice, so that is what the hint proposes.
    body = (
        "- {name: a, type: max_pool2d, pool: [2, 1]}\n"
        "- {name: b, type: max_pool2d, pool: [2, 1]}\n"
        "- {name: up, type: upsample2d, size: [2, 1]}\n"
        "- {name: cat, type: concat, inputs: [up, a]}"
    )
    assert merge_notes(body, "x: [H, W, 3]") == [
        ("S102", ["the shapes agree only when H mod 4 is 0 or 1", ASSUME.format('"H % 4 == 0"')])
    ]


def test_a_congruence_as_a_clause() -> None:
    from specc.passes.congruence import Congruence

    assert Congruence("T", 2, (0,), "m").clause() == "T is a multiple of 2"
    assert Congruence("T", 4, (1, 3), "m").clause() == "T mod 4 is 1 or 3"


def test_a_keras_concat_axis_is_explained() -> None:
    body = "- {name: a, type: relu}\n- {type: concat, axis: 3, inputs: [x, a]}"
    [error] = run(spec(body, "x: [8, 8, 3]")).diagnostics
    assert error.code == "S106"
    assert "counted without the batch axis, from 0 to 2 (or -3 to -1)" in error.message
    assert error.message.endswith(
        "Keras's axis 3, which counts the batch axis, is axis 2 here (or -1), the last"
    )
    far = "- {name: a, type: relu}\n- {type: concat, axis: 5, inputs: [x, a]}"
    [error] = run(spec(far, "x: [8, 8, 3]")).diagnostics
    assert error.code == "S106" and "Keras" not in error.message
