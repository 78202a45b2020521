"""Running plans: static shapes equal runtime shapes, the identities of the question thread,
folding, every layer type against a naive layer-by-layer reference, and input checking."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from specc.api import compile
from specc.dims import substitute
from specc.lower import DataNote, DataWarning, RunError
from specc.ops import REGISTRY
from tests import reference as ref
from tests.conftest import example_dims, spec
from tests.strategies import Network, network_with, networks

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_runtime_shapes_equal_static_shapes(path: Path) -> None:
    dims = example_dims(path)
    plan = compile(path, batch=2, dims=dims)
    outputs = plan.run_all()
    for name, array in outputs.items():
        static = plan.shapes.types[name]
        assert static is not None
        assert array.shape == (2, *(substitute(d, dims) for d in static.shape)), name
        assert array.dtype == np.float32
        assert np.isfinite(array).all()


def test_parameter_counts_equal_the_sizes_of_the_weights() -> None:
    for name in ("resnet18.yaml", "mobilenet_v2.yaml", "residual_block.yaml"):
        plan = compile(EXAMPLES / name)
        weights = plan.init_weights()
        expected = sum(int(info.param_count) for info in plan.shapes.layers.values())  # type: ignore[call-overload]
        assert sum(a.size for a in weights.values()) == expected


def test_a_1x1_convolution_is_a_dense_layer_per_pixel() -> None:
    plan = compile(EXAMPLES / "conv1x1_vs_dense.yaml", dtype="float64")
    weights = plan.init_weights(seed=3)
    weights["per_pixel_dense.kernel"] = weights["pointwise_conv.kernel"].reshape(64, 16)
    weights["per_pixel_dense.bias"] = np.linspace(-1, 1, 16)
    weights["pointwise_conv.bias"] = weights["per_pixel_dense.bias"]
    out = plan.run_all(None, weights, seed=4)
    np.testing.assert_allclose(
        out["pointwise_conv"], out["per_pixel_dense"], rtol=1e-12, atol=1e-12
    )


def test_conv3d_1x3x3_is_time_distributed_conv2d_3x3() -> None:
    plan = compile(EXAMPLES / "conv3d_vs_time_distributed.yaml", batch=2, dtype="float64")
    weights = plan.init_weights(seed=5)
    weights["td_conv2d_3x3.kernel"] = weights["conv3d_1x3x3.kernel"][0]
    weights["conv3d_1x3x3.bias"] = weights["td_conv2d_3x3.bias"] = np.arange(16) / 16.0
    out = plan.run_all(None, weights)
    np.testing.assert_allclose(out["conv3d_1x3x3"], out["td_conv2d_3x3"], rtol=1e-12, atol=1e-12)


def _random_stats(weights: dict[str, NDArray], seed: int) -> None:
    rng = np.random.default_rng(seed)
    for key, a in weights.items():
        if key.endswith((".gamma", ".moving_variance")):
            a[...] = rng.uniform(0.5, 2.0, a.shape)
        elif key.endswith((".beta", ".moving_mean", ".bias")):
            a[...] = rng.normal(0, 0.5, a.shape)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 2e-5)])
@pytest.mark.parametrize("name", ["residual_block.yaml", "speech_frontend.yaml"])
def test_folding_batch_norm_changes_outputs_by_rounding_only(
    name: str, dtype: str, rtol: float
) -> None:
    dims = example_dims(EXAMPLES / name)
    folded = compile(EXAMPLES / name, batch=2, dtype=dtype, dims=dims)
    plain = compile(EXAMPLES / name, batch=2, dtype=dtype, dims=dims)
    plain.fold = False
    weights = folded.init_weights(seed=1)
    _random_stats(weights, 2)
    a, b = folded.run_all(None, weights), plain.run_all(None, weights)
    assert "batch_norm" not in [s.kind for s in folded.steps]
    for key in a:
        scale = np.abs(b[key]).max()
        np.testing.assert_allclose(a[key], b[key], rtol=rtol, atol=rtol * scale)


def test_float32_and_float64_runs_agree() -> None:
    p32 = compile(EXAMPLES / "mobilenet_v2.yaml")
    p64 = compile(EXAMPLES / "mobilenet_v2.yaml", dtype="float64")
    y32 = p32.run()
    y64 = p64.run()
    assert isinstance(y32, np.ndarray) and isinstance(y64, np.ndarray) and y64.dtype == np.float64
    np.testing.assert_allclose(y32, y64, rtol=1e-3, atol=1e-3 * np.abs(y64).max())


def test_repeated_runs_reuse_buffers_without_touching_earlier_outputs() -> None:
    plan = compile(EXAMPLES / "residual_block.yaml", batch=3)
    first = plan.run(seed=1)
    kept = np.array(first, copy=True)
    second = plan.run(seed=2)
    again = plan.run(seed=1)
    assert isinstance(first, np.ndarray) and isinstance(second, np.ndarray)
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_array_equal(again, kept)
    assert not np.array_equal(second, kept)


# -- every layer type against a naive reference -----------------------------------------------

ALL_LAYERS = """
specc: 1
name: every-layer
inputs:
  image: [9, 8, 4]
  seq: [T, 3]
  vol: [4, 6, 5, 2]
layers:
  - {name: c1, type: conv2d, filters: 6, kernel: 3, padding: same, activation: relu, inputs: image}
  - {name: c1_bn, type: batch_norm}
  - {name: c2, type: conv2d, filters: 6, kernel: [2, 3], stride: 2, groups: 2,
     padding: [[1, 0], 2]}
  - {name: c2_bn, type: batch_norm, center: false, scale: false}
  - {name: c2_act, type: leaky_relu, alpha: 0.1}
  - {name: dw, type: depthwise_conv2d, kernel: 3, multiplier: 2, dilation: 2, padding: same,
     activation: elu}
  - {name: dw_bn, type: batch_norm, epsilon: 0.01}
  - {name: pooled, type: avg_pool2d, pool: 3, stride: 2, padding: same}
  - {name: up, type: upsample2d, size: [2, 1]}
  - {name: zp, type: zero_pad2d, padding: [[0, 1], 1]}
  - {name: maxp, type: max_pool2d, pool: 2, stride: 1, padding: same}
  - {name: tconv, type: conv2d_transpose, filters: 3, kernel: 3, stride: 2, padding: same,
     inputs: maxp}
  - {name: tconv_bn, type: batch_norm}
  - {name: g1, type: global_max_pool}
  - {name: g2, type: global_avg_pool, inputs: zp}
  - {name: gates, type: dense, units: 12, activation: sigmoid, inputs: g1}
  - {name: gated, type: multiply, inputs: [g2, gates, g2]}
  - {name: s1, type: conv1d, filters: 5, kernel: 3, dilation: 2, padding: same, inputs: seq}
  - {name: s1_act, type: gelu}
  - {name: s2, type: max_pool1d, pool: 2, padding: same}
  - {name: s3, type: avg_pool1d, pool: 3, stride: 1}
  - {name: s4, type: zero_pad1d, padding: [[2, 1]]}
  - {name: s5, type: silu}
  - {name: s6, type: global_avg_pool}
  - {name: v1, type: conv3d, filters: 4, kernel: [1, 3, 3], padding: same, activation: tanh,
     inputs: vol}
  - {name: v2, type: max_pool3d, pool: [2, 2, 2]}
  - {name: v3, type: avg_pool3d, pool: 1}
  - {name: v4, type: zero_pad3d, padding: 1}
  - name: v5
    type: time_distributed
    layer: {type: conv2d, filters: 3, kernel: 2, activation: relu6}
  - {name: v6, type: time_distributed, layer: {type: dense, units: 2}}
  - {name: v7, type: flatten}
  - {name: v8, type: dropout, rate: 0.5}
  - {name: v9, type: reshape, shape: [-1, 4]}
  - {name: v10, type: softmax}
  - {name: v11, type: flatten}
  - {name: joined, type: concat, inputs: [gated, s6, v11]}
  - {name: summed, type: add, inputs: [joined, joined]}
  - {name: head, type: dense, units: 7, inputs: summed}
  - {name: probs, type: softmax}
outputs: [probs, tconv_bn, up, s5]
"""


@pytest.mark.parametrize("dtype, tol", [("float64", 1e-10), ("float32", 1e-4)])
def test_every_layer_type_matches_the_naive_reference(dtype: str, tol: float) -> None:
    plan = compile(ALL_LAYERS, batch=2, dtype=dtype)
    data = plan.inputs(
        {"image": _rand(2, 9, 8, 4), "seq": _rand(2, 11, 3), "vol": _rand(2, 4, 6, 5, 2)}
    )
    assert data.dims == {"T": 11}
    weights = plan.init_weights(seed=7, dims=data.dims)
    _random_stats(weights, 8)
    got = plan.run_all(data.arrays, weights)
    want = ref.run(plan.model, weights, data.arrays, data.dims)
    for name in plan.output_names:
        assert got[name].shape == want[name].shape, name
        np.testing.assert_allclose(
            got[name], want[name], rtol=tol, atol=tol * max(1.0, np.abs(want[name]).max())
        )


def _rand(*shape: int) -> NDArray:
    return np.random.default_rng(sum(shape)).standard_normal(shape)


# -- inputs -----------------------------------------------------------------------------------

TWO_INPUTS = spec(
    """
    - {name: both, type: concat, inputs: [a, b]}
    """,
    inputs="a: [T, 4]\n  b: [T, 2]",
)


def test_symbolic_dims_are_bound_from_the_data() -> None:
    plan = compile(TWO_INPUTS)
    out = plan.run({"a": np.ones((3, 5, 4)), "b": np.zeros((3, 5, 2))})
    assert isinstance(out, np.ndarray) and out.shape == (3, 5, 6)
    np.testing.assert_array_equal(out[..., :4], 1)


def test_a_contradiction_names_the_input_the_axis_and_both_values() -> None:
    plan = compile(TWO_INPUTS)
    with pytest.raises(RunError) as err:
        plan.run({"a": np.ones((3, 5, 4)), "b": np.zeros((2, 6, 3))})
    message = str(err.value)
    assert "input 'b': axis 0 (the batch) is 2, but input 'a' has a batch of 3" in message
    assert (
        "input 'b': axis 1 (T in the spec) is 6 in the data, but T = 5 (from input 'a' axis 1)"
        in message
    )
    assert "input 'b': axis 2 is 3 in the data, but the spec says 2" in message


def test_given_dims_are_checked_against_the_data() -> None:
    plan = compile(TWO_INPUTS, dims={"T": 4})
    with pytest.raises(
        RunError, match=r"axis 1 \(T in the spec\) is 5 in the data, but T = 4 \(given\)"
    ):
        plan.run({"a": np.ones((1, 5, 4)), "b": np.zeros((1, 5, 2))})


def test_missing_extra_and_wrongly_ranked_inputs_are_listed_together() -> None:
    plan = compile(TWO_INPUTS)
    with pytest.raises(RunError) as err:
        plan.run({"a": np.ones((5, 4)), "c": np.ones(3)})
    text = str(err.value)
    assert "missing input 'b' of shape (N, T, 2)" in text and "extra array 'c'" in text
    with pytest.raises(
        RunError, match=r"input 'a': the data has 2 axes \(5, 4\); the spec needs 3"
    ):
        plan.run({"a": np.ones((5, 4)), "b": np.ones((1, 5, 2))})
    with pytest.raises(RunError, match="2 inputs"):
        plan.run(np.ones((1, 5, 4)))


def test_input_dtypes_are_converted_with_a_note_or_refused() -> None:
    plan = compile(EXAMPLES / "channels_10x5x6.yaml")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = plan.run(np.ones((1, 5, 10, 6), dtype=np.int16))
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    assert [w.category for w in caught] == [DataNote] and "int16" in str(caught[0].message)
    with pytest.raises(RunError, match="complex"):
        plan.run(np.ones((1, 5, 10, 6), dtype=np.complex64))
    with pytest.raises(RunError, match="not a numeric type"):
        plan.run(np.full((1, 5, 10, 6), "x"))


def test_nan_in_the_input_is_a_warning() -> None:
    plan = compile(EXAMPLES / "channels_10x5x6.yaml")
    x = np.zeros((1, 5, 10, 6), np.float32)
    x[0, 1, 2, 3] = np.nan
    with pytest.warns(DataWarning, match="NaN or Inf values in 'image'"):
        plan.run(x)


def test_random_inputs_depend_on_the_seed_only() -> None:
    plan = compile(EXAMPLES / "mnist_two_convs.yaml", batch=2)
    a, b, c = plan.run(seed=1), plan.run(seed=1), plan.run(seed=2)
    assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and isinstance(c, np.ndarray)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# -- the same networks in PyTorch (only where it is installed) --------------------------------


# float64 where PyTorch is fast in it; its float64 depthwise convolution is not (seconds a layer).
@pytest.mark.parametrize(
    "name, dtype, tol",
    [
        ("resnet18.yaml", "float64", 1e-9),
        ("inception_concat.yaml", "float64", 1e-9),
        ("mobilenet_v2.yaml", "float32", 1e-4),
    ],
)
def test_whole_networks_match_pytorch(name: str, dtype: str, tol: float) -> None:
    torch = pytest.importorskip("torch")
    from benchmarks.bench_networks import torch_forward

    plan = compile(EXAMPLES / name, batch=1, dtype=dtype)
    weights = plan.init_weights(seed=11)
    _random_stats(weights, 12)
    x = plan.inputs(seed=13).arrays
    got = plan.run_all(x, weights)
    with torch.inference_mode():
        want = torch_forward(plan.model, weights, x, getattr(torch, dtype))
    for key, value in got.items():
        np.testing.assert_allclose(value, want[key], rtol=tol, atol=tol * np.abs(want[key]).max())


# -- every registered type, and random networks of them, against the naive reference ---------


def test_every_registered_type_has_a_naive_reference() -> None:
    assert set(ref.REFERENCE) == set(REGISTRY)


def _matches_the_reference(network: Network, seed: int) -> None:
    """Run in float64 with random weights and statistics: every output equals the naive one,
    and a second run through the same buffers changes nothing."""
    plan = compile(network.text, batch=2, dtype="float64", dims=network.dims)
    weights = plan.init_weights(seed=seed)
    _random_stats(weights, seed)
    data = plan.inputs(seed=seed)
    got = plan.run_all(data.arrays, weights)
    again = plan.run_all(data.arrays, weights)
    want = ref.run(plan.model, weights, data.arrays, data.dims)
    assert list(got) == network.outputs
    for name in plan.output_names:
        tol = 1e-10 * max(1.0, np.abs(want[name]).max())
        np.testing.assert_allclose(
            got[name], want[name], rtol=1e-10, atol=tol, err_msg=network.text
        )
        np.testing.assert_array_equal(got[name], again[name])


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_each_registered_type_matches_the_naive_reference(kind: str) -> None:
    network = network_with(kind)
    assert kind in network.types
    _matches_the_reference(network, seed=len(kind))


GRAPH_EXAMPLES = int(os.environ.get("SPECC_GRAPH_EXAMPLES", "0"))


# Small tensors: the references loop over every output position in Python.
@settings(
    max_examples=GRAPH_EXAMPLES or 60,
    deadline=None,
    derandomize=not GRAPH_EXAMPLES,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(networks(max_layers=8, max_elements=300, max_macs=3_000), st.integers(0, 2**16))
def test_random_networks_match_the_naive_reference(network: Network, seed: int) -> None:
    _matches_the_reference(network, seed)
