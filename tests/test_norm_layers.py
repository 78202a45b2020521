"""layer_norm, group_norm, scale, rescaling, normalization and the hard/mish activations and
softmax's axis: shapes and Keras's parameter counts by hand, errors at their positions, values
worked out by hand, folding, ONNX export and (where Keras is installed) Keras itself."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from conftest import codes_at, run, spec
from numpy.typing import NDArray

from specc.api import compile
from specc.dims import format_dim
from specc.ir import format_shape


def last(body: str, inputs: str) -> tuple[str, int | str, int | str]:
    """(output shape, parameters, trainable parameters) of the spec's last layer."""
    result = run(spec(body, inputs))
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.shapes is not None
    info = list(result.shapes.layers.values())[-1]

    def text(d: Any) -> int | str:
        return d if isinstance(d, int) else format_dim(d)

    return format_shape(info.output.shape), text(info.param_count), text(info.trainable_count)


SHAPES = [
    # layer_norm: gamma and beta shaped like the normalised axes (Keras): 2 x 64
    ("- {type: layer_norm}", "x: [T, 80, 64]", ("(T, 80, 64)", 2 * 64, 2 * 64)),
    ("- {type: layer_norm, axis: [-2, -1]}", "x: [10, 6, 4]", ("(10, 6, 4)", 2 * 6 * 4, 48)),
    # over the time axis and the next: 2 x (T x 6) values, symbolic as the axis is
    ("- {type: layer_norm, axis: [0, 1]}", "x: [T, 6, 4]", ("(T, 6, 4)", "12*T", "12*T")),
    ("- {type: layer_norm, center: false}", "x: [5, 64]", ("(5, 64)", 64, 64)),
    ("- {type: layer_norm, axis: 0, scale: false, center: false}", "x: [5, 64]", ("(5, 64)", 0, 0)),
    # group_norm: gamma and beta per channel, whatever the groups: 2 x 16
    ("- {type: group_norm, groups: 4}", "x: [8, 8, 16]", ("(8, 8, 16)", 2 * 16, 2 * 16)),
    ("- {type: group_norm}", "x: [T, 64]", ("(T, 64)", 2 * 64, 2 * 64)),  # Keras's 32 groups
    ("- {type: group_norm, groups: 2, scale: false}", "x: [6]", ("(6,)", 6, 6)),
    # scale: one gamma per channel
    ("- {type: scale}", "x: [7, 7, 96]", ("(7, 7, 96)", 96, 96)),
    ("- {type: rescaling, scale: 0.00392156862745098}", "x: [4, 4, 3]", ("(4, 4, 3)", 0, 0)),
    # Keras's Normalization: mean and variance per channel and a count, none trainable
    ("- {type: normalization}", "x: [T, 13]", ("(T, 13)", 2 * 13 + 1, 0)),
    ("- {type: softmax, axis: [0, 1]}", "x: [T, 5, 3]", ("(T, 5, 3)", 0, 0)),
    ("- {type: hard_silu}", "x: [3]", ("(3,)", 0, 0)),
    ("- {type: dense, units: 8, activation: mish}", "x: [4]", ("(8,)", 4 * 8 + 8, 40)),
]


@pytest.mark.parametrize(("body", "inputs", "want"), SHAPES)
def test_shapes_and_keras_parameter_counts(body: str, inputs: str, want: tuple[Any, ...]) -> None:
    assert last(body, inputs) == want


ERRORS = [
    # groups must divide the channels; the caret is on `groups`
    ("- {type: group_norm, groups: 3}", "x: [4, 4, 8]", ("S103", "3}"), ["groups=3", "8"]),
    ("- {type: group_norm}", "x: [4, 4, 16]", ("S103", "{"), ["groups=32", "16"]),
    # Keras's axis 3 counts the batch axis: here it is 2 (or -1)
    ("- {type: layer_norm, axis: 3}", "x: [4, 4, 8]", ("S106", "3}"), ["axis 3", "or -1"]),
    ("- {type: layer_norm, axis: [1, -2]}", "x: [4, 4, 8]", ("S106", "[1"), ["twice"]),
    ("- {type: softmax, axis: 2}", "x: [4, 8]", ("S106", "2}"), ["axis 2"]),
    ("- {type: layer_norm, axis: []}", "x: [4, 8]", ("E106", "["), []),
    ("- {type: rescaling}", "x: [4, 8]", ("E101", "{"), ["scale"]),
]


@pytest.mark.parametrize(("body", "inputs", "where", "words"), ERRORS)
def test_errors_point_at_the_attribute(
    body: str, inputs: str, where: tuple[str, str], words: list[str]
) -> None:
    """Every case is on line 6, the first layer; `where` names the code and the token the
    caret points at."""
    text = spec(body, inputs)
    code, token = where
    assert codes_at(text) == [(code, 6, text.splitlines()[5].index(token) + 1)]
    message = run(text).diagnostics[0].message
    assert all(w in message for w in words), message


def _run(body: str, inputs: str, x: NDArray, weights: dict[str, Any] | None = None) -> NDArray:
    plan = compile(spec(body, inputs), dtype="float64")
    w = plan.init_weights(seed=0)
    w.update({k: np.asarray(v, np.float64) for k, v in (weights or {}).items()})
    (y,) = plan.run_all(np.asarray(x, np.float64)[None], w).values()
    return np.asarray(y[0])


def test_activations_by_hand() -> None:
    x = [-4.0, -3.0, -1.5, 0.0, 1.5, 3.0, 4.0]
    # relu6(x + 3) / 6
    want = [0.0, 0.0, 1.5 / 6, 0.5, 4.5 / 6, 1.0, 1.0]
    np.testing.assert_allclose(_run("- {type: hard_sigmoid}", "x: [7]", x), want, atol=1e-15)
    for name in ("hard_swish", "hard_silu"):
        got = _run(f"- {{type: {name}}}", "x: [7]", x)
        np.testing.assert_allclose(got, [v * w for v, w in zip(x, want, strict=True)], atol=1e-15)
    # mish(1) = tanh(log(1 + e)), mish(-1) = -tanh(log(1 + 1/e))
    got = _run("- {type: mish}", "x: [3]", [-1.0, 0.0, 1.0])
    mish = [-math.tanh(math.log(1 + 1 / math.e)), 0.0, math.tanh(math.log(1 + math.e))]
    np.testing.assert_allclose(got, mish, rtol=1e-14)
    np.testing.assert_allclose(mish, [-0.30340146137, 0.0, 0.86509838827], rtol=1e-10)


def test_softmax_over_the_first_axis_and_over_two() -> None:
    x = [[0.0, 1.0], [math.log(3.0), 1.0]]
    # down each column: (1, 3) / 4 and (e, e) / 2e
    got = _run("- {type: softmax, axis: 0}", "x: [2, 2]", x)
    np.testing.assert_allclose(got, [[0.25, 0.5], [0.75, 0.5]], rtol=1e-14)
    # over everything: exp values 1, e, 3, e
    total = 4 + 2 * math.e
    got = _run("- {type: softmax, axis: [0, 1]}", "x: [2, 2]", x)
    np.testing.assert_allclose(got, [[1 / total, math.e / total], [3 / total, math.e / total]])


def test_layer_norm_by_hand() -> None:
    # mean 2.5, variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25; epsilon inside the root
    got = _run("- {type: layer_norm, epsilon: 0.001}", "x: [4]", [1.0, 2.0, 3.0, 4.0])
    root = math.sqrt(1.25 + 0.001)
    np.testing.assert_allclose(got, [-1.5 / root, -0.5 / root, 0.5 / root, 1.5 / root])
    # over the first axis of a (2, 2) input: columns (1, 3) and (10, 14); gamma and beta are
    # shaped like that axis, one per row
    weights = {"layer_norm_1.gamma": [2.0, 3.0], "layer_norm_1.beta": [0.5, -0.5]}
    got = _run("- {type: layer_norm, axis: 0}", "x: [2, 2]", [[1, 10], [3, 14]], weights)
    a, b = 1 / math.sqrt(1 + 0.001), 2 / math.sqrt(4 + 0.001)
    np.testing.assert_allclose(got, [[-2 * a + 0.5, -2 * b + 0.5], [3 * a - 0.5, 3 * b - 0.5]])


def test_group_norm_by_hand() -> None:
    # groups (1, 3) and (10, 14): means 2 and 12, variances 1 and 4; then gamma, beta per channel
    weights = {"group_norm_1.gamma": [1.0, 2.0, 3.0, 4.0], "group_norm_1.beta": [0, 0, 0, 1.0]}
    got = _run("- {type: group_norm, groups: 2}", "x: [4]", [1, 3, 10, 14], weights)
    a, b = 1 / math.sqrt(1 + 0.001), 2 / math.sqrt(4 + 0.001)
    np.testing.assert_allclose(got, [-a, 2 * a, -3 * b, 4 * b + 1])
    # positions share the statistics: (2, 2) with one group of each channel's two positions
    got = _run("- {type: group_norm, groups: 2, scale: false, center: false}", "x: [2, 2]",
               [[1, 10], [3, 14]])  # fmt: skip
    np.testing.assert_allclose(got, [[-a, -b], [a, b]])


def test_preprocessing_by_hand() -> None:
    got = _run("- {type: rescaling, scale: 0.00784313725490196, offset: -1}", "x: [3]", [0, 1, 255])
    np.testing.assert_allclose(got, [-1.0, 2 / 255 - 1, 1.0], atol=1e-15)
    # Keras: (x - mean) / max(sqrt(variance), 1e-7): 2 / 2 = 1, and 0.5 / 1e-7 for variance 0
    weights = {"normalization_1.mean": [1.0, 2.0], "normalization_1.variance": [4.0, 0.0]}
    got = _run("- {type: normalization}", "x: [2]", [3.0, 2.5], weights)
    np.testing.assert_allclose(got, [1.0, 5e6])


def test_scale_starts_at_its_init_value() -> None:
    plan = compile(spec("- {type: scale}\n- {type: scale, init_value: 0.5}", "x: [3]"))
    w = plan.init_weights(seed=3)
    np.testing.assert_array_equal(w["scale_1.gamma"], np.float32(1e-6))
    np.testing.assert_array_equal(w["scale_2.gamma"], [0.5] * 3)


@pytest.mark.parametrize("affine", ["{type: scale}", "{type: normalization}"])
def test_a_channel_affine_after_dense_folds_into_it(affine: str) -> None:
    body = f"- {{type: dense, units: 6, inputs: x}}\n- {affine}"
    folded = compile(spec(body, "x: [5, 4]"), batch=2, dtype="float64")
    plain = compile(spec(body, "x: [5, 4]"), batch=2, dtype="float64")
    plain.fold = False
    weights = folded.init_weights(seed=1)
    rng = np.random.default_rng(2)
    for key in weights:
        if key.endswith((".gamma", ".variance")):
            weights[key] = rng.uniform(0.5, 2.0, weights[key].shape)
        elif key.endswith((".mean", ".bias")):
            weights[key] = rng.normal(0, 1, weights[key].shape)
    a, b = folded.run_all(None, weights), plain.run_all(None, weights)
    assert [s.kind for s in folded.steps] == ["gemm"]
    assert len(plain.steps) == 2
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=1e-12)


def test_hard_sigmoid_inside_the_network_is_a_squashing_activation() -> None:
    hidden = "- {type: dense, units: 8, activation: hard_sigmoid}\n- {type: dense, units: 2}"
    at = spec(hidden, "x: [4]").splitlines()[5].index("hard_sigmoid") + 1  # the activation
    assert ("W203", 6, at) in codes_at(spec(hidden, "x: [4]"))
    gate = (
        "- {name: g, type: dense, units: 4, activation: hard_sigmoid}\n"
        "- {type: multiply, inputs: [g, x]}"
    )
    assert [c for c in codes_at(spec(gate, "x: [4]")) if c[0] == "W203"] == []


# -- ONNX ------------------------------------------------------------------------------------
ONNX_CASES = [
    ("- {type: layer_norm, axis: [0, 1]}", "x: [5, 3, 4]"),  # not trailing: transposed
    ("- {type: layer_norm, axis: 1, scale: false}", "x: [5, 3, 4]"),
    ("- {type: conv2d, filters: 4, kernel: 1}\n- {type: layer_norm, axis: [0, 1]}",
     "x: [5, 3, 2]"),  # channels first already, and these axes trail there
    ("- {type: conv2d, filters: 4, kernel: 1}\n- {type: group_norm, groups: 2}", "x: [5, 3, 2]"),
    ("- {type: group_norm, groups: 3}", "x: [T, 6]"),
    ("- {type: conv2d, filters: 4, kernel: 1}\n- {type: scale}\n- {type: normalization}",
     "x: [5, 3, 2]"),
    ("- {type: rescaling, scale: 0.5, offset: -1}\n- {type: mish}", "x: [T, 3]"),
    ("- {type: conv2d, filters: 4, kernel: 1}\n- {type: softmax, axis: [0, 1]}", "x: [5, 3, 2]"),
    ("- {type: conv2d, filters: 4, kernel: 1}\n- {type: softmax, axis: 0}", "x: [5, 3, 2]"),
    ("- {type: hard_sigmoid}\n- {type: hard_swish}\n- {type: hard_silu}", "x: [7]"),
]  # fmt: skip


@pytest.mark.parametrize("opset", [17, 18])
@pytest.mark.parametrize(("body", "inputs"), ONNX_CASES)
def test_onnx_export_runs_as_specc_does(body: str, inputs: str, opset: int) -> None:
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from specc.interop.onnx import export_model
    from specc.lower import Plan

    checked = run(spec(body, inputs))
    assert checked.ok and checked.shapes is not None
    plan = Plan(checked, dims={"T": 4} if "T" in inputs else {}, max_memory=None, batch=2)
    data = plan.inputs(seed=0)
    weights = plan.weights(None, seed=0, dims=data.dims)
    rng = np.random.default_rng(1)
    for a in weights.values():  # every statistic and scale away from its neutral value
        a[...] = rng.uniform(0.5, 2.0, a.shape)
    model = export_model(checked.shapes, weights, opset=opset)
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, dict(data.arrays))
    (want,) = plan.prepare(data.arrays, weights).run().values()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


# -- Keras itself ----------------------------------------------------------------------------
def _keras() -> Any:
    import os

    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def _convnext_layer_scale(keras: Any) -> Any:
    from keras.src.applications.convnext import LayerScale

    return LayerScale


KERAS_CASES = [
    # (spec layer, input, Keras layer, its weights from specc's names)
    ("{type: layer_norm}", [6, 8], lambda k: k.layers.LayerNormalization(), ["gamma", "beta"]),
    ("{type: layer_norm, axis: [0, 1], epsilon: 0.01}", [6, 8],
     lambda k: k.layers.LayerNormalization(axis=[1, 2], epsilon=0.01), ["gamma", "beta"]),
    ("{type: layer_norm, center: false}", [5], lambda k: k.layers.LayerNormalization(center=False),
     ["gamma"]),
    ("{type: group_norm, groups: 4}", [3, 3, 8], lambda k: k.layers.GroupNormalization(groups=4),
     ["gamma", "beta"]),
    ("{type: group_norm}", [64], lambda k: k.layers.GroupNormalization(), ["gamma", "beta"]),
    ("{type: scale}", [4, 6], lambda k: _convnext_layer_scale(k)(1e-6, 6), ["gamma"]),
    ("{type: rescaling, scale: 0.5, offset: -1}", [4, 3],
     lambda k: k.layers.Rescaling(0.5, offset=-1.0), []),
    ("{type: normalization}", [4, 3], lambda k: k.layers.Normalization(),
     ["mean", "variance", "count"]),
    ("{type: softmax, axis: [0, 1]}", [4, 3], lambda k: k.layers.Softmax(axis=[1, 2]), []),
    ("{type: softmax, axis: 0}", [4, 3], lambda k: k.layers.Softmax(axis=1), []),
    ("{type: hard_sigmoid}", [9], lambda k: k.layers.Activation("hard_sigmoid"), []),
    ("{type: hard_swish}", [9], lambda k: k.layers.Activation("hard_swish"), []),
    ("{type: hard_silu}", [9], lambda k: k.layers.Activation("hard_silu"), []),
    ("{type: mish}", [9], lambda k: k.layers.Activation("mish"), []),
    ("{type: dense, units: 3, activation: hard_silu}", [4],
     lambda k: k.layers.Dense(3, activation="hard_silu"), ["kernel", "bias"]),
]  # fmt: skip


@pytest.mark.parametrize(("layer", "shape", "make", "names"), KERAS_CASES)
def test_keras_counts_and_computes_the_same(
    layer: str, shape: list[int], make: Any, names: list[str]
) -> None:
    keras = _keras()
    text = spec(f"- {layer[:-1]}, name: it}}", f"x: {shape}")
    checked = run(text)
    assert checked.ok and checked.shapes is not None
    plan = compile(text, batch=3)
    weights = plan.init_weights(seed=4)
    rng = np.random.default_rng(5)
    for key in weights:  # statistics and scales away from their neutral initial values
        weights[key] = rng.uniform(0.5, 2.0, weights[key].shape).astype(np.float32)
    x = (rng.standard_normal((3, *shape)) * 4).astype(np.float32)
    (want,) = plan.run_all(x, weights).values()

    k_layer = make(keras)
    inputs = keras.Input(tuple(shape))
    model = keras.Model(inputs, k_layer(inputs))
    info = checked.shapes.layers["it"]
    assert model.count_params() == info.param_count
    assert sum(int(np.prod(w.shape)) for w in k_layer.trainable_weights) == info.trainable_count
    if names:
        k_layer.set_weights([weights[f"it.{n}"].reshape(w.shape).astype(w.dtype) for n, w in
                             zip(names, k_layer.get_weights(), strict=True)])  # fmt: skip
        if hasattr(k_layer, "finalize_state"):  # Normalization reads its adapted statistics
            k_layer.finalize_state()
    got = np.asarray(model(x))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_batch_norm_exports_over_symbolic_channels() -> None:
    """After flatten of (T, 1) the channels are T: the bound weights give their number."""
    pytest.importorskip("onnx")
    from specc.interop.onnx import export_model
    from specc.lower import Plan

    body = "- {type: flatten}\n- {name: bn, type: batch_norm, scale: false, center: false}"
    checked = run(spec(body, "x: [T, 1]"))
    assert checked.ok and checked.shapes is not None
    plan = Plan(checked, dims={"T": 3}, max_memory=None)
    weights = plan.weights(None, seed=0, dims={"T": 3})
    model = export_model(checked.shapes, weights)
    assert {i.name for i in model.graph.initializer} >= {"bn/gamma", "bn/beta"}
