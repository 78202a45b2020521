"""multi_head_attention: shapes, parameters and MACs by hand from Keras's formulas, errors at
their positions, the kernel against the naive reference, ONNX export, and Keras as an oracle."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from conftest import codes_at, run, spec

import specc
from specc.dims import format_dim, parse_dim, substitute, symbol
from specc.ir import TensorType
from specc.lower.ops.attention import attention
from specc.ops.attention import MultiHeadAttention
from specc.passes.costs import measure
from tests import reference as ref

MHA = "multi_head_attention"


def _layers(text: str) -> dict[str, Any]:
    result = run(text)
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.shapes is not None
    return result.shapes.layers


def _params(info: Any) -> dict[str, tuple[Any, ...]]:
    return {p.name: p.shape for p in info.params}


def _count(info: Any) -> Any:
    total: Any = 0
    for p in info.params:
        size: Any = 1
        for d in p.shape:
            size = size * d
        total = total + size
    return total


# -- shapes and parameters ---------------------------------------------------------------------


def test_self_attention_as_keras_counts_it() -> None:
    layers = _layers(spec(f"- {{name: a, type: {MHA}, num_heads: 4, key_dim: 16}}", "x: [T, 64]"))
    a = layers["a"]
    assert str(a.output) == "(T, 64)"
    assert _params(a) == {
        "query_kernel": (64, 4, 16),
        "query_bias": (4, 16),
        "key_kernel": (64, 4, 16),
        "key_bias": (4, 16),
        "value_kernel": (64, 4, 16),
        "value_bias": (4, 16),
        "output_kernel": (4, 16, 64),
        "output_bias": (64,),
    }
    # Keras MultiHeadAttention(num_heads=4, key_dim=16) on d = 64: three projections of
    # d x h x k + h x k, and the output h x k x d + d
    assert _count(a) == 3 * (64 * 4 * 16 + 4 * 16) + (4 * 16 * 64 + 64) == 16_640


def test_cross_attention_with_other_lengths_and_sizes() -> None:
    text = spec(
        f"- {{name: a, type: {MHA}, num_heads: 2, key_dim: 8, value_dim: 4, output_shape: 10, "
        "inputs: [q, m]}\n"
        f"- {{name: b, type: {MHA}, num_heads: 3, key_dim: 5, bias: false, inputs: [q, m, k]}}",
        "q: [T, 12]\n  m: [S, 6]\n  k: [S, 7]",
    )
    layers = _layers(text)
    a, b = layers["a"], layers["b"]
    assert str(a.output) == "(T, 10)"
    # query 12 x 2 x 8 + 2 x 8, key = value input (6 features) 6 x 2 x 8 + 2 x 8,
    # value 6 x 2 x 4 + 2 x 4, output 2 x 4 x 10 + 10
    assert _count(a) == (12 * 16 + 16) + (6 * 16 + 16) + (6 * 8 + 8) + (8 * 10 + 10)
    assert _params(a)["output_kernel"] == (2, 4, 10)
    # three inputs in Keras's call order: query q, value m, key k; no biases; out = 12
    assert str(b.output) == "(T, 12)"
    assert _params(b) == {
        "query_kernel": (12, 3, 5),
        "key_kernel": (7, 3, 5),
        "value_kernel": (6, 3, 5),
        "output_kernel": (3, 5, 12),
    }
    assert _count(b) == 12 * 15 + 7 * 15 + 6 * 15 + 15 * 12


def test_torch_layouts_are_linear_layers() -> None:
    op = MultiHeadAttention(num_heads=4, key_dim=16, value_dim=8, output_shape=32)
    x = TensorType((10, 64))
    torch = {p.name: p.layout_torch for p in op.params([x])}
    # nn.Linear(in, out).weight is (out, in); heads x size are one axis there
    assert torch["query_kernel"] == (64, 64)
    assert torch["value_kernel"] == (32, 64)
    assert torch["output_kernel"] == (32, 32)
    assert torch["value_bias"] == (32,)
    inits = {p.name: p.init for p in op.params([x])}
    assert inits["query_kernel"] == inits["output_kernel"] == "glorot_uniform"
    assert inits["query_bias"] == inits["output_bias"] == "zeros"


def test_higher_rank_attends_over_every_axis_but_the_last() -> None:
    text = spec(
        f"- {{name: a, type: {MHA}, num_heads: 2, key_dim: 3, inputs: [x, m]}}",
        "x: [4, T, 6]\n  m: [3, 2, 5]",
    )
    a = _layers(text)["a"]
    assert str(a.output) == "(4, T, 6)"
    # T_q = 4*T query positions, T_k = 3*2 = 6 key positions
    t = symbol("T")
    tq, tk = 4 * t, 6
    assert measure(run(text).shapes).layers["a"].macs == (  # type: ignore[arg-type]
        tq * 6 * 2 * 3 + tk * 5 * 2 * 3 * 2 + 2 * tq * tk * (3 + 3) + tq * 2 * 3 * 6
    )


# -- MACs: the quadratic term ------------------------------------------------------------------


def test_macs_show_the_square_of_the_length() -> None:
    text = spec(f"- {{name: a, type: {MHA}, num_heads: 4, key_dim: 16}}", "x: [T, 64]")
    macs = measure(run(text).shapes).layers["a"].macs  # type: ignore[arg-type]
    t = symbol("T")
    # projections 3 x T x 64 x 4 x 16, scores and weighted values 4 x T x T x 16 each,
    # output T x 4 x 16 x 64
    assert macs == 3 * t * 64 * 64 + 2 * 4 * t * t * 16 + t * 64 * 64
    assert format_dim(macs) == "128*T*T+16384*T"
    assert parse_dim(format_dim(macs)) == macs
    assert substitute(macs, {"T": 1000}) == 128 * 10**6 + 16384 * 1000


def test_cross_attention_macs_are_the_product_of_both_lengths() -> None:
    text = spec(f"- {{name: a, type: {MHA}, num_heads: 2, key_dim: 4, inputs: [q, m]}}",
                "q: [T, 8]\n  m: [S, 6]")  # fmt: skip
    macs = measure(run(text).shapes).layers["a"].macs  # type: ignore[arg-type]
    t, s = symbol("T"), symbol("S")
    assert macs == t * 8 * 8 + 2 * s * 6 * 8 + 2 * t * s * 8 + t * 8 * 8


def test_report_with_dims_prints_the_cost_of_a_longer_utterance() -> None:
    from typer.testing import CliRunner

    from specc.cli import app

    text = spec(f"- {{name: a, type: {MHA}, num_heads: 4, key_dim: 16}}", "x: [T, 64]")
    result = CliRunner().invoke(app, ["report", "-", "--columns", "name,macs"], input=text)
    assert result.exit_code == 0, result.output
    assert "128*T*T+16384*T" in result.output
    result = CliRunner().invoke(
        app, ["report", "-", "--columns", "name,macs", "--dim", "T=1000"], input=text
    )
    assert f"{128 * 10**6 + 16384 * 1000:,}" in result.output


def test_the_receptive_field_is_the_whole_input() -> None:
    text = spec(f"- {{name: a, type: {MHA}, num_heads: 1, key_dim: 2}}", "x: [T, 4]")
    assert measure(run(text).shapes).fields["a"] == "global"  # type: ignore[arg-type]


# -- errors ------------------------------------------------------------------------------------


def test_errors_at_the_layer() -> None:
    text = spec(
        f"- {{name: a, type: {MHA}, num_heads: 2, key_dim: 4, inputs: v}}\n"
        f"- {{name: b, type: {MHA}, num_heads: 2, key_dim: 4, inputs: [x, z]}}\n"
        f"- {{name: c, type: {MHA}, num_heads: 2, key_dim: 4, inputs: [x, x, y]}}\n"
        f"- {{name: d, type: {MHA}, num_heads: 0, key_dim: 4, inputs: x}}\n"
        f"- {{name: e, type: {MHA}, num_heads: 2, inputs: x}}\n"
        f"- {{name: f, type: {MHA}, num_heads: 2, key_dim: 4, inputs: [x, x, x, x]}}",
        "x: [T, 8]\n  v: [8]\n  y: [5, 8]\n  z: [2, 5, 8]",
    )
    assert codes_at(text) == [
        ("S101", 9, 5),  # a vector has no positions
        ("S102", 10, 5),  # query of rank 2, value of rank 3
        ("S102", 11, 5),  # value (T, 8) and key (5, 8) have different positions
        ("E104", 12, 54),  # num_heads: 0
        ("E101", 13, 5),  # key_dim missing
        ("S005", 14, 77),  # four inputs
    ]


# -- the kernel --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heads", "key_dim", "value_dim", "out", "bias", "tq", "tk"),
    [
        (1, 1, 1, 3, True, 1, 1),
        (4, 16, 16, 64, True, 7, 7),
        (2, 3, 5, 4, False, 6, 2),
        (3, 2, 4, 1, True, 1, 9),
    ],
)
def test_kernel_matches_the_naive_reference(
    heads: int, key_dim: int, value_dim: int, out: int, bias: bool, tq: int, tk: int
) -> None:
    rng = np.random.default_rng(heads * 100 + tq)
    dq, dk, dv = 5, 3, 4
    query = rng.standard_normal((2, tq, dq))
    key = rng.standard_normal((2, tk, dk))
    value = rng.standard_normal((2, tk, dv))
    w = {
        "query_kernel": rng.standard_normal((dq, heads, key_dim)),
        "key_kernel": rng.standard_normal((dk, heads, key_dim)),
        "value_kernel": rng.standard_normal((dv, heads, value_dim)),
        "output_kernel": rng.standard_normal((heads, value_dim, out)),
    }
    if bias:
        w |= {
            "query_bias": rng.standard_normal((heads, key_dim)),
            "key_bias": rng.standard_normal((heads, key_dim)),
            "value_bias": rng.standard_normal((heads, value_dim)),
            "output_bias": rng.standard_normal(out),
        }
    op = MultiHeadAttention(
        num_heads=heads, key_dim=key_dim, value_dim=value_dim, output_shape=out, bias=bias
    )
    want = ref.evaluate(op, [query, value, key], w, {})
    consts = []  # each kernel as a matrix (inputs, outputs), then its bias as a vector
    for role in ("query", "key", "value", "output"):
        kernel = w[f"{role}_kernel"]
        consts.append(
            kernel.reshape(-1, kernel.shape[-1] if role == "output" else heads * kernel.shape[-1])
        )
        if bias:
            consts.append(w[f"{role}_bias"].reshape(-1))
    got = attention(
        query, key, value, tuple(consts), heads=heads, key_dim=key_dim, value_dim=value_dim
    )
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_a_spec_runs_as_the_reference_with_symbolic_lengths() -> None:
    text = spec(
        f"- {{name: s, type: {MHA}, num_heads: 2, key_dim: 4, inputs: q}}\n"
        f"- {{name: c, type: {MHA}, num_heads: 3, key_dim: 2, value_dim: 5, output_shape: 3, "
        "inputs: [s, m]}",
        "q: [T, 6]\n  m: [S, 4]",
    )
    plan = specc.compile(text, batch=2, dims={"T": 7, "S": 3}, dtype="float64")
    data = plan.inputs(seed=1).arrays
    weights = plan.init_weights(seed=1)
    got = plan.run_all(data, weights)
    want = ref.run(run(text).shapes.model, weights, data)  # type: ignore[union-attr]
    assert got["c"].shape == (2, 7, 3)
    np.testing.assert_allclose(got["c"], want["c"], rtol=1e-10, atol=1e-10)


# -- ONNX --------------------------------------------------------------------------------------


def test_onnx_export_keeps_the_lengths_symbolic() -> None:
    pytest.importorskip("onnxruntime")
    from test_export_onnx import _agree

    text = spec(
        f"- {{name: s, type: {MHA}, num_heads: 4, key_dim: 4, inputs: q}}\n"
        f"- {{name: c, type: {MHA}, num_heads: 2, key_dim: 3, value_dim: 2, output_shape: 5, "
        "bias: false, inputs: [s, m, k]}\n"
        f"- {{name: h, type: time_distributed, layer: {{type: {MHA}, num_heads: 2, key_dim: 2}}, "
        "inputs: r}\n"
        f"- {{name: r2, type: {MHA}, num_heads: 1, key_dim: 2, inputs: r}}",
        "q: [T, 8]\n  m: [S, 3]\n  k: [S, 2]\n  r: [3, T, 4]",
    )
    _agree(run(text + "outputs: [s, c, h, r2]\n"), {"T": 6, "S": 4})


# -- Keras as the oracle -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


@pytest.mark.parametrize(
    ("attrs", "inputs", "kwargs"),
    [
        ("num_heads: 4, key_dim: 16", "q: [9, 64]", {"num_heads": 4, "key_dim": 16}),
        (
            "num_heads: 2, key_dim: 3, value_dim: 5, output_shape: 7, bias: false",
            "q: [6, 8]\n  m: [4, 5]",
            {"num_heads": 2, "key_dim": 3, "value_dim": 5, "output_shape": 7, "use_bias": False},
        ),
        (
            "num_heads: 3, key_dim: 2",
            "q: [5, 6]\n  m: [3, 4]\n  k: [3, 2]",
            {"num_heads": 3, "key_dim": 2},
        ),
        ("num_heads: 2, key_dim: 4", "q: [3, 4, 6]", {"num_heads": 2, "key_dim": 4}),
    ],
    ids=["self", "cross-no-bias", "query-value-key", "rank-3"],
)
def test_keras_agrees_on_counts_and_outputs(
    keras: Any, attrs: str, inputs: str, kwargs: dict[str, Any]
) -> None:
    names = [line.split(":")[0].strip() for line in inputs.split("\n")]
    text = spec(f"- {{name: a, type: {MHA}, {attrs}, inputs: [{', '.join(names)}]}}", inputs)
    plan = specc.compile(text, batch=2, dtype="float32")
    data = plan.inputs(seed=3).arrays
    weights = plan.init_weights(seed=3)
    rng = np.random.default_rng(0)
    weights = {k: rng.standard_normal(v.shape).astype(np.float32) * 0.3 for k, v in weights.items()}
    got = plan.run_all(data, weights)["a"]

    layer = keras.layers.MultiHeadAttention(**kwargs)
    arrays = [data[n] for n in names] * (2 if len(names) == 1 else 1)  # query, value, key
    # The explicit path (einsum, softmax, einsum): Keras 3.15's fused dot_product_attention on
    # JAX refuses a value_dim other than key_dim.
    layer(*arrays, return_attention_scores=True)  # builds
    assert layer.count_params() == _count(_layers(text)["a"])
    order = {"query": "query", "key": "key", "value": "value", "attention_output": "output"}
    keras_weights = []
    for w in layer.weights:
        role, kind = w.path.split("/")[-2:]
        keras_weights.append(weights[f"a.{order[role]}_{kind}"])
    layer.set_weights(keras_weights)
    want, _ = layer(*arrays, return_attention_scores=True)
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-4, atol=1e-4)
    if len(names) == 1:  # the fused path too, once (each new shape costs a compilation)
        np.testing.assert_allclose(got, np.asarray(layer(*arrays)), rtol=1e-4, atol=1e-4)
