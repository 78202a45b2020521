"""Broadcasting merges, kept axes of global pooling, cropping, slice, permute, identity and
upsampling: shapes, errors, values and receptive fields computed by hand from Keras's
documented formulas."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import codes_at, run, spec

import specc
from specc.ops import REGISTRY
from specc.passes.costs import measure
from tests.test_costs import fields
from tests.test_shapes import layer


def outputs(text: str) -> dict[str, str]:
    result = run(text)
    assert result.ok and result.shapes is not None, [d.message for d in result.diagnostics]
    return {name: str(info.output) for name, info in result.shapes.layers.items()}


# -- shapes -----------------------------------------------------------------------------------
CASES = [
    # broadcasting, aligned from the last axis: each axis equal, or 1 on one side
    ("- {type: multiply, inputs: [x, y]}", "x: [56, 56, 144]\n  y: [1, 1, 144]", "(56, 56, 144)"),
    ("- {type: multiply, inputs: [x, y]}", "x: [56, 56, 144]\n  y: [144]", "(56, 56, 144)"),
    ("- {type: add, inputs: [y, x]}", "x: [56, 56, 144]\n  y: [144]", "(56, 56, 144)"),
    ("- {type: add, inputs: [x, y]}", "x: [1, 7, 1]\n  y: [5, 1, 3]", "(5, 7, 3)"),
    ("- {type: add, inputs: [x, y, z]}", "x: [4, 1]\n  y: [3]\n  z: [1, 1]", "(4, 3)"),
    ("- {type: subtract, inputs: [x, y]}", "x: [T, 8]\n  y: [1, 8]", "(T, 8)"),
    ("- {type: subtract, inputs: [x, y]}", "x: [1, 5, 8]\n  y: [T, 1, 8]", "(T, 5, 8)"),
    ("- {type: multiply, inputs: [x, y]}", "x: [T, 8]\n  y: [T, 8]", "(T, 8)"),
    # keepdims: every spatial axis kept as 1
    ("- {type: global_avg_pool, keepdims: true}", "x: [7, 7, 32]", "(1, 1, 32)"),
    ("- {type: global_max_pool, keepdims: true}", "x: [T, 12]", "(1, 12)"),
    ("- {type: global_avg_pool, keepdims: true}", "x: [3, 4, 5, 2]", "(1, 1, 1, 2)"),
    ("- {type: global_max_pool, keepdims: false}", "x: [3, 4, 5, 2]", "(2,)"),
    # cropping: n - before - after; Keras's defaults (1, 1), ((0, 0), (0, 0)), ((1, 1),) * 3
    ("- {type: cropping1d}", "x: [10, 4]", "(8, 4)"),  # 10 - 1 - 1
    ("- {type: cropping1d, cropping: [[2, 3]]}", "x: [T, 4]", "(T-5, 4)"),
    ("- {type: cropping2d}", "x: [5, 6, 2]", "(5, 6, 2)"),
    ("- {type: cropping2d, cropping: [[1, 2], 1]}", "x: [5, 6, 2]", "(2, 4, 2)"),  # 5-3, 6-2
    ("- {type: cropping2d, cropping: 2}", "x: [H, 9, 3]", "(H-4, 5, 3)"),
    ("- {type: cropping3d}", "x: [4, 5, 6, 1]", "(2, 3, 4, 1)"),
    ("- {type: cropping3d, cropping: [0, [1, 0], [0, 2]]}", "x: [4, 5, 6, 1]", "(4, 4, 4, 1)"),
    # slice: len(range(*slice(start, stop, step).indices(n)))
    ("- {type: slice, start: 3}", "x: [8, 8, 6]", "(8, 8, 3)"),  # channels 3..5
    ("- {type: slice, stop: 3}", "x: [8, 8, 6]", "(8, 8, 3)"),  # channels 0..2
    ("- {type: slice, stop: -1, step: 2}", "x: [8, 8, 6]", "(8, 8, 3)"),  # 0, 2, 4
    ("- {type: slice, axis: 0, start: -3}", "x: [8, 8, 6]", "(3, 8, 6)"),  # 5, 6, 7
    ("- {type: slice, axis: 1, start: 1, stop: 100}", "x: [8, 8, 6]", "(8, 7, 6)"),  # clamped
    ("- {type: slice, axis: -2, step: 3}", "x: [8, 8, 6]", "(8, 3, 6)"),  # 0, 3, 6
    ("- {type: slice, axis: 0, start: 2}", "x: [T, 4]", "(T-2, 4)"),
    (
        "- {type: slice, axis: 0, start: 1, stop: -2, step: 2}",
        "x: [T, 4]",
        "(floor((T-2)/2), 4)",
    ),  # ceil((T-3)/2)
    ("- {type: slice, start: 1, stop: 3}", "x: [T, 4]", "(T, 2)"),
    # permute: output axis i is input axis dims[i], counted from 1
    ("- {type: permute, dims: [2, 1]}", "x: [T, 8]", "(8, T)"),
    ("- {type: permute, dims: [3, 1, 2]}", "x: [4, 5, 6]", "(6, 4, 5)"),
    ("- {type: permute, dims: [1]}", "x: [6]", "(6,)"),
    ("- {type: identity}", "x: [T, 3]", "(T, 3)"),
    # upsampling: n * size
    ("- {type: upsample1d}", "x: [T, 3]", "(2*T, 3)"),
    ("- {type: upsample1d, size: 3}", "x: [5, 3]", "(15, 3)"),
    ("- {type: upsample2d, interpolation: bilinear}", "x: [5, 6, 2]", "(10, 12, 2)"),
    ("- {type: upsample3d}", "x: [2, 3, 4, 1]", "(4, 6, 8, 1)"),  # Keras's default (2, 2, 2)
    ("- {type: upsample3d, size: [1, 2, 3]}", "x: [2, 3, 4, 1]", "(2, 6, 12, 1)"),
]


@pytest.mark.parametrize(("body", "inputs", "expected"), CASES)
def test_shapes(body: str, inputs: str, expected: str) -> None:
    assert layer(body, inputs) == (expected, None, 0)


ERRORS = [
    # (body, inputs, code, where): the diagnostic points at the first occurrence of `where` on
    # the layer's line: the attribute at fault, or the layer itself ("{")
    ("- {type: add, inputs: [x, y]}", "x: [56, 56, 144]\n  y: [28, 28, 144]", "S102", "{"),
    ("- {type: multiply, inputs: [x, y]}", "x: [56, 56, 144]\n  y: [56, 1, 72]", "S102", "{"),
    ("- {type: add, inputs: [x, y]}", "x: [T, 8]\n  y: [U, 8]", "S102", "{"),
    ("- {type: add, inputs: [x, y]}", "x: [T, 8]\n  y: [3, 8]", "S102", "{"),
    ("- {type: subtract, inputs: [x, x, x]}", "x: [4]", "S005", "[x, x, x]"),
    ("- {type: cropping2d, cropping: 3}", "x: [5, 6, 2]", "S104", "3}"),  # 5 - 3 - 3 = -1
    ("- {type: cropping1d, cropping: [[2, 3]]}", "x: [5, 2]", "S104", "[["),  # 5 - 2 - 3 = 0
    ("- {type: cropping2d, cropping: [1, 1, 1]}", "x: [5, 6, 2]", "S107", "[1"),
    ("- {type: cropping3d}", "x: [5, 6, 2]", "S101", "{"),
    ("- {type: permute, dims: [1, 1, 2]}", "x: [4, 5, 6]", "S106", "[1"),
    ("- {type: permute, dims: [1, 2]}", "x: [4, 5, 6]", "S106", "[1"),
    ("- {type: permute, dims: [0, 1, 2]}", "x: [4, 5, 6]", "E", ""),  # schema: minimum 1
    ("- {type: slice, axis: 3}", "x: [4, 5, 6]", "S106", "3}"),
    ("- {type: slice, start: 4, stop: 2}", "x: [4, 5, 6]", "S104", "2}"),
    ("- {type: slice, axis: 0, start: 9}", "x: [4, 5, 6]", "S104", "9}"),
    ("- {type: slice, axis: 0, start: -3}", "x: [T, 6]", "S108", "-3"),  # min(3, T)
    ("- {type: slice, axis: 0, stop: 10}", "x: [T, 6]", "S108", "10"),  # min(10, T)
    ("- {type: upsample1d, size: [2, 2]}", "x: [5, 2]", "S107", "[2"),
    ("- {type: upsample3d, interpolation: bilinear}", "x: [2, 2, 2, 1]", "E", ""),
]


@pytest.mark.parametrize(("body", "inputs", "code", "where"), ERRORS)
def test_errors(body: str, inputs: str, code: str, where: str) -> None:
    text = spec(body, inputs)
    lines = text.splitlines()
    line = lines.index("layers:") + 2
    found = codes_at(text)
    if code == "E":  # a schema error: only its family is asserted
        assert found and all(c.startswith("E") for c, _, _ in found), found
    else:
        assert found == [(code, line, lines[line - 1].index(where) + 1)]


def test_a_merge_mismatch_names_both_shapes() -> None:
    result = run(spec("- {type: multiply, inputs: [x, y]}", "x: [56, 56, 144]\n  y: [28, 28, 144]"))
    (d,) = result.diagnostics
    assert "(56, 56, 144) and (28, 28, 144)" in d.message


def test_a_slice_symbolic_in_one_axis_and_static_in_another() -> None:
    assert outputs(spec("- {name: s, type: slice, axis: 1, start: 1, stop: 3}", "x: [T, 4]")) == {
        "s": "(T, 2)"
    }


# -- values -----------------------------------------------------------------------------------
def run_spec(text: str, data: dict[str, np.ndarray]) -> np.ndarray:
    plan = specc.compile(text, dtype="float64", batch=next(iter(data.values())).shape[0])
    y = plan.run(data)
    assert isinstance(y, np.ndarray)
    return y


def test_broadcast_values_by_hand() -> None:
    x = np.arange(8.0).reshape(1, 2, 2, 2)  # [[[0, 1], [2, 3]], [[4, 5], [6, 7]]]
    v = np.array([[10.0, 100.0]])
    text = spec(
        "- {name: m, type: multiply, inputs: [x, v]}\n- {name: s, type: subtract, inputs: [v, m]}",
        "x: [2, 2, 2]\n  v: [2]",
    )
    y = run_spec(text, {"x": x, "v": v})
    # m = x * [10, 100] per channel; s = v - m
    m = [[[0, 100], [20, 300]], [[40, 500], [60, 700]]]
    assert y.tolist() == [[[[10 - a, 100 - b] for a, b in row] for row in m]]


def test_a_broadcast_keeps_each_sample_apart() -> None:
    # Keras aligns a (C,) input as (N, 1, 1, C): sample 1 is scaled by its own gate.
    x = np.ones((2, 3, 3, 2))
    g = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = run_spec(
        spec("- {type: multiply, inputs: [x, g]}", "x: [3, 3, 2]\n  g: [2]"), {"x": x, "g": g}
    )
    assert y[0, 2, 1].tolist() == [1.0, 2.0] and y[1, 0, 0].tolist() == [3.0, 4.0]


def test_keepdims_values() -> None:
    x = np.arange(12.0).reshape(1, 2, 3, 2)
    y = run_spec(spec("- {type: global_avg_pool, keepdims: true}", "x: [2, 3, 2]"), {"x": x})
    # channel 0: 0, 2, ..., 10 -> 5; channel 1: 1, 3, ..., 11 -> 6
    assert y.shape == (1, 1, 1, 2) and y.ravel().tolist() == [5.0, 6.0]


def test_crop_slice_and_permute_values() -> None:
    x = np.arange(24.0).reshape(1, 4, 3, 2)  # x[0, h, w, c] = 6h + 2w + c
    crop = run_spec(
        spec("- {type: cropping2d, cropping: [[1, 2], [0, 1]]}", "x: [4, 3, 2]"), {"x": x}
    )
    assert crop[0, :, :, 0].tolist() == [[6.0, 8.0]]  # row 1, columns 0 and 1
    sl = run_spec(spec("- {type: slice, axis: 0, start: -3, step: 2}", "x: [4, 3, 2]"), {"x": x})
    assert sl[0, :, 0, 0].tolist() == [6.0, 18.0]  # rows 1 and 3
    per = run_spec(spec("- {type: permute, dims: [3, 1, 2]}", "x: [4, 3, 2]"), {"x": x})
    assert per.shape == (1, 2, 4, 3) and per[0, 1, 2, 1] == 6 * 2 + 2 * 1 + 1


def test_bilinear_values_by_hand() -> None:
    # One row [0, 4], doubled: output centres sit at input coordinates -0.25, 0.25, 0.75,
    # 1.25; clamped at the ends: 0, 0.75*0 + 0.25*4, 0.25*0 + 0.75*4, 4.
    x = np.array([0.0, 4.0]).reshape(1, 1, 2, 1)
    text = spec("- {type: upsample2d, size: [1, 2], interpolation: bilinear}", "x: [1, 2, 1]")
    assert run_spec(text, {"x": x}).ravel().tolist() == [0.0, 1.0, 3.0, 4.0]
    # Tripled: coordinates (o + 0.5) / 3 - 0.5 = -1/3, 0, 1/3, 2/3, 1, 4/3.
    text = spec("- {type: upsample2d, size: [3, 1], interpolation: bilinear}", "x: [2, 1, 1]")
    got = run_spec(text, {"x": x.reshape(1, 2, 1, 1)}).ravel()
    np.testing.assert_allclose(got, [0, 0, 4 / 3, 8 / 3, 4, 4])


def test_shufflenet_channel_shuffle() -> None:
    """ShuffleNet v2's unit: split the channels in two, transform one half, join, then shuffle
    with groups 2: reshape to (H, W, 2, C/2), swap the last two axes, reshape back."""
    h, w, c, g = 4, 4, 6, 2
    text = spec(
        f"""
        - {{name: left, type: slice, stop: {c // 2}, inputs: x}}
        - {{name: right, type: slice, start: {c // 2}, inputs: x}}
        - {{name: branch, type: relu, inputs: right}}
        - {{name: joined, type: concat, inputs: [left, branch]}}
        - {{name: grouped, type: reshape, shape: [{h}, {w}, {g}, {c // g}]}}
        - {{name: swapped, type: permute, dims: [1, 2, 4, 3]}}
        - {{name: shuffled, type: reshape, shape: [{h}, {w}, {c}]}}
        """,
        f"x: [{h}, {w}, {c}]",
    )
    x = np.random.default_rng(0).normal(size=(2, h, w, c))
    y = run_spec(text, {"x": x})
    joined = np.concatenate([x[..., : c // 2], np.maximum(x[..., c // 2 :], 0)], axis=-1)
    # By hand: output channel j takes joined channel (j % g) * (c // g) + j // g.
    want = np.empty_like(joined)
    for j in range(c):
        want[..., j] = joined[..., (j % g) * (c // g) + j // g]
    np.testing.assert_array_equal(y, want)
    assert [(j % g) * (c // g) + j // g for j in range(c)] == [0, 3, 1, 4, 2, 5]


def test_slices_and_crops_copy_only_what_they_must() -> None:
    text = spec(
        "- {name: whole, type: slice, axis: 0}\n- {name: none, type: cropping2d}\n"
        "- {name: ones, type: permute, dims: [2, 1, 3]}\n- {name: part, type: slice, stop: 2}",
        "x: [1, 5, 4]",
    )
    kinds = [step.kind for step in specc.compile(text).steps]
    assert kinds == ["view", "view", "view", "slice"]  # moving an axis of 1 is a reshape


# -- receptive fields -------------------------------------------------------------------------
def test_receptive_fields_through_the_new_layers() -> None:
    text = spec(
        """
        - {name: c, type: conv2d, filters: 4, kernel: [3, 1], padding: same}
        - {name: p, type: permute, dims: [2, 1, 3]}
        - {name: s, type: slice, axis: 0, step: 2}
        - {name: k, type: conv2d, filters: 4, kernel: 3, padding: same}
        - {name: cr, type: cropping2d, cropping: 1}
        - {name: u, type: upsample2d, interpolation: bilinear}
        - {name: g, type: global_avg_pool, keepdims: true, inputs: c}
        - {name: se, type: multiply, inputs: [c, g]}
        - {name: v, type: global_max_pool, inputs: c}
        - {name: b, type: add, inputs: [c, v]}
        - {name: ch, type: slice, stop: 2, inputs: c}
        """,
        "x: [16, 16, 3]",
    )
    result = run(text)
    assert result.ok and result.shapes is not None
    f = fields(measure(result.shapes))
    assert f["c"] == [(3, 1), (1, 1)]
    assert f["p"] == [(1, 1), (3, 1)]  # the axes swap
    assert f["s"] == [(1, 2), (3, 1)]  # every other position: jump 2
    assert f["k"] == [(1 + 2 * 2, 2), (3 + 2, 1)]  # + (3 - 1) x jump
    assert f["cr"] == f["k"]  # cropping moves no position's field
    assert f["u"] == [(5 + 2, 1), (5 + 1, 0.5)]  # two neighbours: + 1 x jump; jump / 2
    assert f["g"] == f["se"] == "global"  # squeeze-and-excitation reads the whole map
    assert f["b"] == "global"  # the (C,) branch is global too
    assert f["ch"] == f["c"]


# -- lint: gates ------------------------------------------------------------------------------
GATES = [
    # EfficientNet's squeeze-and-excitation: a (1, 1, C) sigmoid gate over the (H, W, C) map
    """
    - {name: c, type: conv2d, filters: 16, kernel: 3, padding: same}
    - {name: sq, type: global_avg_pool, keepdims: true}
    - {name: r, type: conv2d, filters: 4, kernel: 1, activation: silu}
    - {name: e, type: conv2d, filters: 16, kernel: 1, activation: {act}}
    - {name: m, type: multiply, inputs: [c, e]}
    """,
    # the same with Keras's Reshape((1, 1, C)) after the pooling, gate first in the multiply
    """
    - {name: c, type: conv2d, filters: 16, kernel: 3, padding: same}
    - {name: sq, type: global_avg_pool}
    - {name: rs, type: reshape, shape: [1, 1, 16]}
    - {name: e, type: conv2d, filters: 16, kernel: 1, activation: {act}}
    - {name: m, type: multiply, inputs: [e, c]}
    """,
    # a (C,) gate from dense layers, broadcast over the map without a reshape
    """
    - {name: c, type: conv2d, filters: 16, kernel: 3, padding: same}
    - {name: sq, type: global_avg_pool}
    - {name: d, type: dense, units: 16}
    - {name: e, type: {act}}
    - {name: m, type: multiply, inputs: [c, e]}
    """,
]
GATE_ACTIVATIONS = [a for a in ("sigmoid", "hard_sigmoid") if a in REGISTRY]


@pytest.mark.parametrize("act", GATE_ACTIVATIONS)
@pytest.mark.parametrize("body", GATES)
def test_a_sigmoid_gate_that_broadcasts_is_not_a_squashed_hidden_layer(body: str, act: str) -> None:
    text = spec(body.replace("{act}", act), "x: [8, 8, 3]")
    assert [d.code for d in run(text).diagnostics] == []


def test_a_sigmoid_into_a_broadcast_add_still_warns() -> None:
    text = spec(
        """
        - {name: c, type: conv2d, filters: 16, kernel: 3, padding: same}
        - {name: sq, type: global_avg_pool}
        - {name: e, type: dense, units: 16, activation: sigmoid}
        - {name: a, type: add, inputs: [c, e]}
        """,
        "x: [8, 8, 3]",
    )
    assert [d.code for d in run(text).diagnostics] == ["W203"]
