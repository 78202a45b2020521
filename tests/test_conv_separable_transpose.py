"""Separable convolutions, N-d transposed convolutions and causal conv1d: shapes, parameters,
errors, MACs, folding and kernels by hand from Keras's formulas, then against Keras itself."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
import reference as ref
from conftest import codes_at, run, spec

from specc.api import Settings, check_text, compile
from specc.dims import format_dim
from specc.ir import TensorType, format_shape
from specc.lower.ops.conv import conv_transpose
from specc.ops import Problem
from specc.ops.conv import Conv2D, SeparableConv2D


def last(body: str, inputs: str) -> tuple[str, dict[str, str], int | str]:
    """(output shape, {param: shape}, parameter count) of the last layer."""
    result = run(spec(body, inputs))
    assert result.ok and result.shapes is not None, [d.message for d in result.diagnostics]
    info = list(result.shapes.layers.values())[-1]
    count = info.param_count
    return (
        format_shape(info.output.shape),
        {p.name: format_shape(p.shape) for p in info.params},
        count if isinstance(count, int) else format_dim(count),
    )


SHAPES = [
    # separable 2-d: depthwise (k, k, C, m), pointwise (1, 1, C*m, F), bias F
    (
        "- {type: separable_conv2d, filters: 64, kernel: 3, padding: same}",
        "x: [56, 56, 32]",
        "(56, 56, 64)",
        {
            "depthwise_kernel": "(3, 3, 32, 1)",
            "pointwise_kernel": "(1, 1, 32, 64)",
            "bias": "(64,)",
        },
        3 * 3 * 32 * 1 + 32 * 1 * 64 + 64,
    ),
    # depth multiplier 3, stride 2 valid: floor((15 - 3) / 2) + 1 = 7; no bias
    (
        "- {type: separable_conv2d, filters: 10, kernel: 3, stride: 2, depth_multiplier: 3,"
        " bias: false}",
        "x: [15, 15, 4]",
        "(7, 7, 10)",
        {"depthwise_kernel": "(3, 3, 4, 3)", "pointwise_kernel": "(1, 1, 12, 10)"},
        3 * 3 * 4 * 3 + 4 * 3 * 10,
    ),
    # explicit padding and dilation: 20 + 1 + 2 - (2 * (5 - 1) + 1) + 1 = 15
    (
        "- {type: separable_conv2d, filters: 2, kernel: [5, 1], dilation: 2, padding: [[1, 2], 0]}",
        "x: [20, 6, 3]",
        "(15, 6, 2)",
        {"depthwise_kernel": "(5, 1, 3, 1)", "pointwise_kernel": "(1, 1, 3, 2)", "bias": "(2,)"},
        5 * 3 + 3 * 2 + 2,
    ),
    # separable 1-d on a symbolic time axis: floor((T - 5) / 2) + 1 = floor((T-3)/2)
    (
        "- {type: separable_conv1d, filters: 16, kernel: 5, stride: 2, depth_multiplier: 2}",
        "x: [T, 8]",
        "(floor((T-3)/2), 16)",
        {"depthwise_kernel": "(5, 8, 2)", "pointwise_kernel": "(1, 16, 16)", "bias": "(16,)"},
        5 * 8 * 2 + 16 * 16 + 16,
    ),
    # transposed 1-d, valid: 9 * 3 + max(4 - 3, 0) = 28; kernel (k, F, C)
    (
        "- {type: conv1d_transpose, filters: 5, kernel: 4, stride: 3}",
        "x: [9, 6]",
        "(28, 5)",
        {"kernel": "(4, 5, 6)", "bias": "(5,)"},
        5 * (4 * 6 + 1),
    ),
    # same: n * s, symbolic
    (
        "- {type: conv1d_transpose, filters: 5, kernel: 4, stride: 3, padding: same}",
        "x: [T, 6]",
        "(3*T, 5)",
        {"kernel": "(4, 5, 6)", "bias": "(5,)"},
        5 * (4 * 6 + 1),
    ),
    # transposed 3-d: (4*2 + 1, 5*1 + 2, 6*2 + 1) with kernel (3, 3, 3) and strides (2, 1, 2)
    (
        "- {type: conv3d_transpose, filters: 2, kernel: 3, stride: [2, 1, 2], bias: false}",
        "x: [4, 5, 6, 3]",
        "(9, 7, 13, 2)",
        {"kernel": "(3, 3, 3, 2, 3)"},
        27 * 2 * 3,
    ),
    # dilated transposed 3-d (stride 1): n + d * (k - 1) = n + 4 on each axis
    (
        "- {type: conv3d_transpose, filters: 2, kernel: 3, dilation: 2}",
        "x: [4, 5, 6, 3]",
        "(8, 9, 10, 2)",
        {"kernel": "(3, 3, 3, 2, 3)", "bias": "(2,)"},
        2 * (27 * 3 + 1),
    ),
    # conv2d_transpose keeps its lengths: 7 * 2 + max(3 - 2, 0) = 15
    (
        "- {type: conv2d_transpose, filters: 4, kernel: 3, stride: 2}",
        "x: [7, 7, 8]",
        "(15, 15, 4)",
        {"kernel": "(3, 3, 4, 8)", "bias": "(4,)"},
        4 * (9 * 8 + 1),
    ),
    # causal: left-pad 2 * (3 - 1) = 4, then valid: 100 + 4 - 5 + 1 = 100
    (
        "- {type: conv1d, filters: 6, kernel: 3, dilation: 2, padding: causal}",
        "x: [100, 4]",
        "(100, 6)",
        {"kernel": "(3, 4, 6)", "bias": "(6,)"},
        6 * (3 * 4 + 1),
    ),
    # causal with stride 2: floor((T + 2 - 3) / 2) + 1 = ceil(T/2), Keras's (n - 1) // s + 1
    (
        "- {type: conv1d, filters: 6, kernel: 3, stride: 2, padding: causal}",
        "x: [T, 4]",
        "(ceil(T/2), 6)",
        {"kernel": "(3, 4, 6)", "bias": "(6,)"},
        6 * (3 * 4 + 1),
    ),
    (
        "- {type: conv1d, filters: 6, kernel: 4, stride: 3, padding: causal}",
        "x: [10, 4]",
        "(4, 6)",
        {"kernel": "(4, 4, 6)", "bias": "(6,)"},
        6 * (4 * 4 + 1),
    ),
]


@pytest.mark.parametrize(("body", "inputs", "output", "params", "count"), SHAPES)
def test_shapes_and_parameters(
    body: str, inputs: str, output: str, params: dict[str, str], count: int
) -> None:
    assert last(body, inputs) == (output, params, count)


ERRORS = [
    # causal is conv1d's only: a schema error at the value
    ("- {type: conv2d, filters: 4, kernel: 3, padding: causal}", "x: [9, 9, 3]", ("E106", 6, 52)),
    (
        "- {type: separable_conv1d, filters: 4, kernel: 3, padding: causal}",
        "x: [9, 3]",
        ("E106", 6, 62),
    ),
    ("- {type: max_pool1d, pool: 2, padding: causal}", "x: [9, 3]", ("E106", 6, 42)),
    # Keras refuses a stride and a dilation both above 1 on a transposed convolution
    (
        "- {type: conv1d_transpose, filters: 4, kernel: 3, stride: 2, dilation: 2}",
        "x: [9, 3]",
        ("S112", 6, 74),
    ),
    # the 5-wide depthwise window does not fit 4 steps
    ("- {type: separable_conv1d, filters: 4, kernel: 5}", "x: [4, 3]", ("S104", 6, 5)),
    ("- {type: separable_conv2d, filters: 4, kernel: [3, 3, 3]}", "x: [9, 9, 3]", ("S107", 6, 50)),
    ("- {type: conv3d_transpose, filters: 4, kernel: 3}", "x: [9, 9, 3]", ("S101", 6, 5)),
]


@pytest.mark.parametrize(("body", "inputs", "where"), ERRORS)
def test_errors_point_at_the_layer_and_attribute(
    body: str, inputs: str, where: tuple[str, int, int]
) -> None:
    assert codes_at(spec(body, inputs)) == [where]


def test_causal_padding_on_another_type_is_refused_when_built_in_python() -> None:
    op = Conv2D(filters=2, kernel=3, padding="causal")
    with pytest.raises(Problem) as caught:
        op.infer([TensorType((8, 8, 1))])
    assert (caught.value.code, caught.value.attr) == ("S112", "padding")


def test_separable_folds_batch_norm_into_the_pointwise_kernel() -> None:
    op = SeparableConv2D(filters=4, kernel=3)
    assert op.affine_target() == "pointwise_kernel"
    assert op.replace(activation="relu").affine_target() is None
    text = spec(
        """
        - {name: s, type: separable_conv2d, filters: 4, kernel: 3, depth_multiplier: 2,
           bias: false}
        - {name: bn, type: batch_norm}
        """,
        "x: [7, 7, 3]",
    )
    folded = compile(text, batch=2, dtype="float64", max_memory=None)
    plain = compile(text, batch=2, dtype="float64", max_memory=None)
    plain.fold = False
    weights = folded.init_weights(seed=3)
    rng = np.random.default_rng(0)
    for key in ("bn.gamma", "bn.beta", "bn.moving_mean"):
        weights[key] = rng.normal(0, 0.5, weights[key].shape)
    weights["bn.moving_variance"] = rng.uniform(0.5, 2, weights["bn.moving_variance"].shape)
    a, b = folded.run_all(None, weights), plain.run_all(None, weights)
    assert "batch_norm" not in [s.kind for s in folded.steps]
    assert [s.kind for s in folded.steps] == ["depthwise", "gemm"]
    np.testing.assert_allclose(a["bn"], b["bn"], rtol=1e-12, atol=1e-12)


def test_causal_conv1d_by_hand() -> None:
    # kernel 2, dilation 1: y[t] = w0 * x[t-1] + w1 * x[t] (x[-1] = 0)
    plan = compile(
        spec(
            "- {name: c, type: conv1d, filters: 1, kernel: 2, padding: causal, bias: false}",
            "x: [4, 1]",
        ),
        dtype="float64",
    )
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1)
    y = plan.run(x, {"c.kernel": np.array([10.0, 1.0]).reshape(2, 1, 1)})
    np.testing.assert_array_equal(np.asarray(y).ravel(), [1, 2 + 10, 3 + 20, 4 + 30])


def test_separable_by_hand() -> None:
    # one channel, multiplier 2: depthwise taps [1, 1] and [1, -1] over x = [1, 2, 4] give
    # (3, -1) and (6, -2); pointwise (2, -> 1) weights [1, 10] and bias 0.5
    plan = compile(
        spec(
            "- {name: s, type: separable_conv1d, filters: 1, kernel: 2, depth_multiplier: 2}",
            "x: [3, 1]",
        ),
        dtype="float64",
    )
    weights = {
        "s.depthwise_kernel": np.array([[1.0, 1.0], [1.0, -1.0]]).reshape(2, 1, 2),
        "s.pointwise_kernel": np.array([1.0, 10.0]).reshape(1, 2, 1),
        "s.bias": np.array([0.5]),
    }
    y = plan.run(np.array([1.0, 2.0, 4.0]).reshape(1, 3, 1), weights)
    np.testing.assert_array_equal(np.asarray(y).ravel(), [3 - 10 + 0.5, 6 - 20 + 0.5])


@pytest.mark.parametrize(
    ("kernel", "dilation", "padding"),
    [((3,), (2,), "valid"), ((3,), (2,), "same"), ((2, 3), (3, 1), "same"), ((2, 2, 2), (1, 2, 3), "valid")],
)  # fmt: skip
def test_dilated_transposed_kernel_matches_reference(
    kernel: tuple[int, ...], dilation: tuple[int, ...], padding: str
) -> None:
    rng = np.random.default_rng(len(kernel))
    rank = len(kernel)
    x = rng.normal(size=(2, *(4,) * rank, 3))
    w = rng.normal(size=(*kernel, 2, 3))
    b = rng.normal(size=2)
    ones = (1,) * rank
    want = ref.conv_transpose(x, w, b, ones, padding, dilation)
    got = conv_transpose(x, w, b, stride=ones, padding=padding, dilation=dilation)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_lint_extends_to_separable_and_skips_transposed() -> None:
    text = spec(
        """
        - {name: s, type: separable_conv2d, filters: 4, kernel: 1, depth_multiplier: 2,
           inputs: x}
        - {name: s2, type: separable_conv2d, filters: 4, kernel: 3, padding: same}
        - {name: bn, type: batch_norm}
        - {name: t, type: conv1d_transpose, filters: 4, kernel: 1, stride: 3, inputs: y}
        """,
        "x: [16, 16, 8]\n  y: [5, 2]",
    )
    text = text.replace("layers:", "outputs: [bn, t]\nlayers:")
    got = check_text(text, "t.yaml", settings=Settings(select=("ALL",))).diagnostics
    codes = sorted((d.code, d.message.split(":")[0]) for d in got)
    assert ("W201", "s2") in codes
    assert ("I102", "s") in codes
    # a transposed convolution paints with its stride: no 'stride skips input' warning
    assert not [c for c in codes if c[1] == "t"]
    (i102,) = [d for d in got if d.code == "I102"]
    # separable: 8 x 2 + 16 x 4 + 4 = 84 parameters; 1x1 conv: 8 x 4 + 4 = 36
    assert "with 48 fewer parameters" in i102.message


# -- Keras as the oracle ----------------------------------------------------------------------


def _keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


KERAS_CASES = [
    (
        "{type: separable_conv2d, filters: 5, kernel: 3, depth_multiplier: 2, stride: 2,"
        " padding: same}",
        (9, 8, 3),
        lambda k: k.layers.SeparableConv2D(5, 3, strides=2, padding="same", depth_multiplier=2),
    ),
    (
        "{type: separable_conv1d, filters: 4, kernel: 3, dilation: 2, activation: relu}",
        (11, 3),
        lambda k: k.layers.SeparableConv1D(4, 3, dilation_rate=2, activation="relu"),
    ),
    (
        "{type: conv1d_transpose, filters: 3, kernel: 4, stride: 3, padding: same}",
        (7, 2),
        lambda k: k.layers.Conv1DTranspose(3, 4, strides=3, padding="same"),
    ),
    (
        "{type: conv1d_transpose, filters: 3, kernel: 3, dilation: 2}",
        (7, 2),
        lambda k: k.layers.Conv1DTranspose(3, 3, dilation_rate=2),
    ),
    (
        "{type: conv3d_transpose, filters: 2, kernel: [3, 2, 1], stride: [2, 1, 3]}",
        (3, 4, 2, 2),
        lambda k: k.layers.Conv3DTranspose(2, (3, 2, 1), strides=(2, 1, 3)),
    ),
    (
        "{type: conv3d_transpose, filters: 2, kernel: 3, stride: 2, padding: same}",
        (3, 3, 4, 2),
        lambda k: k.layers.Conv3DTranspose(2, 3, strides=2, padding="same"),
    ),
    (
        "{type: conv1d, filters: 3, kernel: 3, dilation: 2, padding: causal}",
        (10, 2),
        lambda k: k.layers.Conv1D(3, 3, dilation_rate=2, padding="causal"),
    ),
    (
        "{type: conv1d, filters: 3, kernel: 4, stride: 3, padding: causal}",
        (10, 2),
        lambda k: k.layers.Conv1D(3, 4, strides=3, padding="causal"),
    ),
]


@pytest.mark.parametrize(("body", "shape", "make"), KERAS_CASES)
def test_keras_counts_and_computes_the_same(body: str, shape: tuple[int, ...], make: Any) -> None:
    keras = _keras()
    inputs = f"x: [{', '.join(map(str, shape))}]"
    text = spec(f"- {{name: l, {body[1:]}", inputs)
    plan = compile(text, batch=2, dtype="float64", max_memory=None)
    weights = plan.init_weights(seed=5)
    rng = np.random.default_rng(1)
    for key in weights:
        if key.endswith(".bias"):
            weights[key] = rng.normal(0, 0.5, weights[key].shape)
    layer = make(keras)
    layer.build((None, *shape))
    assert layer.count_params() == sum(int(w.size) for w in weights.values())
    names = [w.path.split("/")[-1] for w in layer.weights]
    layer.set_weights([weights[f"l.{name}"] for name in names])
    x = rng.normal(size=(2, *shape))
    want = np.asarray(layer(x.astype("float32")))
    got = np.asarray(plan.run(x, weights))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


@pytest.mark.parametrize("length", [9, 10, 11, 12])
def test_onnx_same_padding_of_a_dilated_strided_conv_on_a_symbolic_axis(length: int) -> None:
    # onnxruntime refuses SAME_UPPER with a dilation: the pads are computed from the runtime
    # length instead, and one exported file serves every length
    pytest.importorskip("onnxruntime")
    from test_export_onnx import _agree

    text = spec(
        """
        - {name: c, type: conv1d, filters: 3, kernel: 3, stride: 2, dilation: 2, padding: same}
        - {name: s, type: separable_conv1d, filters: 2, kernel: 2, stride: 3, dilation: 2,
           padding: same}
        """,
        "x: [T, 2]",
    )
    _agree(run(text), {"T": length})
