"""lstm, gru, bidirectional and embedding: shapes, parameters and MACs by hand from Keras's
formulas, integer inputs, errors at their positions, the kernels against the naive
reference, the ONNX operators, and Keras itself as the oracle."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import numpy as np
import pytest
from conftest import codes_at, run, spec
from typer.testing import CliRunner

import tests.reference as ref
from specc.api import check_text
from specc.cli import app
from specc.dims import format_dim, substitute, symbol
from specc.ir import format_shape
from specc.lower import Plan, RunError
from specc.passes.costs import measure
from tests.strategies import network_with


def last(text: str, inputs: str) -> tuple[str, int | str, dict[str, str]]:
    """(output shape, params, weight shapes) of the last layer."""
    result = run(spec(text, inputs))
    assert result.ok and result.shapes is not None, [d.message for d in result.diagnostics]
    info = list(result.shapes.layers.values())[-1]
    count = info.param_count
    weights = {p.name: format_shape(p.shape) for p in info.params}
    return (
        format_shape(info.output.shape),
        count if isinstance(count, int) else format_dim(count),
        weights,
    )


CASES = [
    # Keras LSTM: 4 gates x (u x (in + u) + u); kernel (in, 4u), recurrent (u, 4u), bias (4u,)
    (
        "- {type: lstm, units: 64}",
        "x: [T, 80]",
        ("(64,)", 4 * (64 * (80 + 64) + 64)),
        {"kernel": "(80, 256)", "recurrent_kernel": "(64, 256)", "bias": "(256,)"},
    ),
    (
        "- {type: lstm, units: 64, return_sequences: true, bias: false}",
        "x: [T, 80]",
        ("(T, 64)", 4 * 64 * (80 + 64)),
        {"kernel": "(80, 256)", "recurrent_kernel": "(64, 256)"},
    ),
    # Keras 3 GRU, reset_after: 3 x (u x (in + u) + 2u), the bias (2, 3u)
    (
        "- {type: gru, units: 64}",
        "x: [T, 80]",
        ("(64,)", 3 * (64 * (80 + 64) + 2 * 64)),
        {"kernel": "(80, 192)", "recurrent_kernel": "(64, 192)", "bias": "(2, 192)"},
    ),
    (
        "- {type: gru, units: 64, reset_after: false, return_sequences: true}",
        "x: [T, 80]",
        ("(T, 64)", 3 * (64 * (80 + 64) + 64)),
        {"kernel": "(80, 192)", "recurrent_kernel": "(64, 192)", "bias": "(192,)"},
    ),
    # bidirectional: a forward and a backward copy; concat doubles the units
    (
        "- {type: bidirectional, layer: {type: lstm, units: 32, return_sequences: true}}",
        "x: [T, 10]",
        ("(T, 64)", 2 * 4 * (32 * (10 + 32) + 32)),
        {
            "forward_kernel": "(10, 128)",
            "forward_recurrent_kernel": "(32, 128)",
            "forward_bias": "(128,)",
            "backward_kernel": "(10, 128)",
            "backward_recurrent_kernel": "(32, 128)",
            "backward_bias": "(128,)",
        },
    ),
    (
        "- {type: bidirectional, merge_mode: sum, layer: {type: gru, units: 8}}",
        "x: [T, 4]",
        ("(8,)", 2 * 3 * (8 * (4 + 8) + 2 * 8)),
        None,
    ),
    # embedding: input_dim x output_dim; a new last axis
    (
        "- {type: embedding, input_dim: 1000, output_dim: 64}",
        "x: {shape: [T], dtype: int32}",
        ("(T, 64)", 1000 * 64),
        {"embeddings": "(1000, 64)"},
    ),
    (
        "- {type: embedding, input_dim: 50, output_dim: 8}\n- {type: lstm, units: 4}",
        "x: {shape: [T], dtype: int32}",
        ("(4,)", 4 * (4 * (8 + 4) + 4)),
        None,
    ),
]


@pytest.mark.parametrize(("body", "inputs", "want", "weights"), CASES)
def test_shapes_and_parameters_by_hand(
    body: str, inputs: str, want: tuple[str, int], weights: dict[str, str] | None
) -> None:
    shape, count, got = last(body, inputs)
    assert (shape, count) == want
    if weights is not None:
        assert got == weights


def test_embedding_then_a_wrapper_of_one() -> None:
    shape, count, _ = last(
        "- {type: time_distributed, layer: {type: embedding, input_dim: 9, output_dim: 3}}",
        "x: {shape: [T, 5], dtype: int32}",
    )
    assert (shape, count) == ("(T, 5, 3)", 9 * 3)


def test_macs_are_expressions_in_t() -> None:
    result = run(
        spec(
            """
            - {name: l, type: lstm, units: 64, return_sequences: true}
            - {name: g, type: gru, units: 32}
            - {name: b, type: bidirectional, layer: {type: gru, units: 8}, inputs: x}
            """,
            "x: [T, 80]",
        )
    )
    assert result.shapes is not None
    costs = measure(result.shapes)
    t = symbol("T")
    assert costs.layers["l"].macs == t * 4 * 64 * (80 + 64)
    assert costs.layers["g"].macs == t * 3 * 32 * (64 + 32)
    assert costs.layers["b"].macs == 2 * t * 3 * 8 * (80 + 8)
    assert substitute(costs.layers["l"].macs, {"T": 100}) == 100 * 4 * 64 * 144
    # every output of a recurrent layer reads the whole sequence
    assert costs.fields["l"] == costs.fields["g"] == costs.fields["b"] == "global"


def test_an_embedding_keeps_positions_for_receptive_fields() -> None:
    result = run(
        spec(
            """
            - {name: e, type: embedding, input_dim: 10, output_dim: 4}
            - {name: c, type: conv1d, filters: 2, kernel: 3}
            """,
            "x: {shape: [T], dtype: int32}",
        )
    )
    assert result.shapes is not None
    field = measure(result.shapes).fields["c"]
    assert not isinstance(field, str) and field[0].size == 3


# -- errors -------------------------------------------------------------------------------


def test_errors_are_at_their_positions() -> None:
    text = spec(
        """
        - {name: r, type: lstm, units: 4}
        - {name: e, type: embedding, input_dim: 5, output_dim: 2, inputs: x}
        - {name: b, type: bidirectional, layer: {type: dense, units: 2}, inputs: x}
        - {name: e2, type: embedding, input_dim: 5, output_dim: 2, inputs: b}
        """,
        "x: [4, 4, 3]",
    )
    assert codes_at(text) == [
        ("S101", 6, 5),  # lstm needs (steps, features)
        ("S111", 7, 5),  # an embedding reads a float input
        ("E106", 8, 50),  # bidirectional wraps lstm or gru only: at 'dense'
    ]


def test_an_embedding_after_a_layer_is_s111_naming_it() -> None:
    result = run(
        spec(
            """
            - {name: d, type: dense, units: 3}
            - {name: e, type: embedding, input_dim: 5, output_dim: 2}
            """,
            "x: [4]",
        )
    )
    (d,) = result.diagnostics
    assert (d.code, d.span.line) == ("S111", 7) and "layer 'd'" in d.message


def test_float_input_message_shows_the_declaration_to_write() -> None:
    (d,) = run(spec("- {type: embedding, input_dim: 5, output_dim: 2}", "tok: [T]")).diagnostics
    assert "tok: {shape: [T], dtype: int32}" in d.message
    assert d.notes and d.notes[0].span is not None and d.notes[0].span.line == 4


@pytest.mark.parametrize(
    ("inputs", "code", "col"),
    [
        ("x: {shape: [T], dtype: int64}", "E106", 26),  # at the value
        ("x: {shape: [T], dtyp: int32}", "E102", 19),  # at the unknown key
        ("x: {dtype: int32}", "E101", 3),  # at the input missing its shape
    ],
)
def test_input_declarations_are_validated(inputs: str, code: str, col: int) -> None:
    text = spec("- {type: embedding, input_dim: 5, output_dim: 2}", inputs)
    assert [c[:2] for c in codes_at(text)] == [(code, 4)]
    assert codes_at(text)[0][2] == col


# -- running --------------------------------------------------------------------------------

TOKENS = spec(
    """
    - {name: e, type: embedding, input_dim: 7, output_dim: 3}
    - {name: d, type: dense, units: 2, inputs: tok}
    """,
    "tok: {shape: [T], dtype: int32}",
).replace("layers:", "outputs: [e, d]\nlayers:")


def test_integer_inputs_are_indices_below_input_dim_and_cast_for_other_layers() -> None:
    plan = Plan(check_text(TOKENS), dims={"T": 50}, max_memory=None)
    data = plan.inputs(seed=3)
    tok = data.arrays["tok"]
    assert tok.dtype == np.int32 and tok.min() >= 0 and tok.max() < 7
    weights = plan.weights(None)
    got = plan.run_all(data.arrays, weights)
    np.testing.assert_allclose(got["e"], weights["e.embeddings"][tok])
    want = tok.astype(np.float64) @ weights["d.kernel"] + weights["d.bias"]
    np.testing.assert_allclose(got["d"], want, rtol=1e-5)
    assert [s.kind for s in plan.program(dims={"T": 50}).steps] == ["cast", "gather", "gemm"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (np.zeros((1, 4), np.float32), "float32 data for an input declared int32"),
        (np.array([[0, 7, 1, 2]]), "index 7 is outside [0, 7) (input_dim of 'e')"),
        (np.array([[0, -1, 1, 2]]), "index -1 is outside [0, 7)"),
    ],
)
def test_integer_input_data_is_checked(data: Any, words: str) -> None:
    plan = Plan(check_text(TOKENS), max_memory=None)
    with pytest.raises(RunError, match=re.escape(words)):
        plan.run(data)


def test_seeded_initialisers_follow_keras() -> None:
    text = spec(
        """
        - {name: l, type: lstm, units: 5, inputs: x}
        - {name: e, type: embedding, input_dim: 100, output_dim: 50, inputs: tok}
        """,
        "x: [3, 2]\n  tok: {shape: [3], dtype: int32}",
    )
    w = Plan(check_text(text), max_memory=None).weights(None, seed=1)
    # unit_forget_bias: gates i, f, c, o; the forget gate's 5 biases start at 1
    np.testing.assert_array_equal(w["l.bias"], [0] * 5 + [1] * 5 + [0] * 10)
    # orthogonal (5, 20): orthonormal rows
    rk = w["l.recurrent_kernel"].astype(np.float64)
    np.testing.assert_allclose(rk @ rk.T, np.eye(5), atol=1e-5)
    assert np.abs(w["e.embeddings"]).max() <= 0.05 and w["e.embeddings"].std() > 0.02


RNN_CASES = [
    "{type: lstm, units: 3}",
    "{type: lstm, units: 3, return_sequences: true, bias: false}",
    "{type: lstm, units: 2, activation: relu, recurrent_activation: tanh}",
    "{type: gru, units: 3}",
    "{type: gru, units: 3, reset_after: false, return_sequences: true}",
    "{type: gru, units: 2, activation: null, recurrent_activation: relu, bias: false}",
    "{type: bidirectional, layer: {type: lstm, units: 2, return_sequences: true}}",
    "{type: bidirectional, merge_mode: sum, layer: {type: gru, units: 2}}",
    "{type: bidirectional, merge_mode: mul, layer: {type: gru, units: 2, reset_after: false, "
    "return_sequences: true}}",
    "{type: bidirectional, merge_mode: ave, layer: {type: lstm, units: 3, activation: elu}}",
]


def _random_biases(weights: dict[str, Any], seed: int) -> None:
    rng = np.random.default_rng(seed)
    for key, a in weights.items():
        if key.endswith("bias"):
            a[...] = rng.normal(0, 0.5, a.shape)


@pytest.mark.parametrize("body", RNN_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kernels_match_the_naive_reference(body: str, dtype: str) -> None:
    plan = Plan(check_text(spec(f"- {body}", "x: [T, 4]")), dims={"T": 5}, batch=2, dtype=dtype)
    data = plan.inputs(seed=1)
    weights = plan.weights(None, seed=2)
    _random_biases(weights, 3)
    got = plan.run_all(data.arrays, weights)
    want = ref.run(plan.model, weights, data.arrays, data.dims)
    tol = 1e-5 if dtype == "float32" else 1e-12
    for name, y in want.items():
        np.testing.assert_allclose(got[name], y, rtol=tol, atol=tol)


def test_the_generator_draws_every_new_type_on_fitting_inputs() -> None:
    for kind in ("lstm", "gru", "bidirectional", "embedding"):
        network = network_with(kind)
        assert kind in network.types
        declared = network.spec["inputs"]["x"]
        if kind == "embedding":
            assert declared["dtype"] == "int32"
        else:
            assert isinstance(declared, list) and len(declared) == 2


def test_report_shows_the_input_dtype() -> None:
    runner = CliRunner()
    source = spec(
        "- {type: embedding, input_dim: 5, output_dim: 2}", "x: {shape: [T], dtype: int32}"
    )
    plain = runner.invoke(app, ["report", "-"], input=source)
    assert plain.exit_code == 0 and "inputs: x (T,) int32;" in plain.output
    data = json.loads(runner.invoke(app, ["report", "-", "--format", "json"], input=source).output)
    assert data["inputs"] == {"x": ["T"]} and data["input_dtypes"] == {"x": "int32"}


# -- ONNX -----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", RNN_CASES)
def test_onnx_operators_run_as_specc_runs(body: str) -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from specc.interop.onnx import export_model

    checked = check_text(spec(f"- {body}", "x: [T, 4]"))
    assert checked.shapes is not None
    plan = Plan(checked, dims={"T": 6}, batch=3)
    data = plan.inputs(seed=1)
    weights = plan.weights(None, seed=2)
    _random_biases(weights, 4)
    model = export_model(checked.shapes, weights)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"x": data.arrays["x"]})
    (want,) = plan.run_all(data.arrays, weights).values()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    kinds = {n.op_type for n in model.graph.node}
    assert {"LSTM", "GRU"} & kinds


def test_onnx_has_no_recurrent_relu6() -> None:
    pytest.importorskip("onnx")
    from specc.interop.onnx import ExportError, export_model

    checked = check_text(spec("- {name: r, type: gru, units: 2, activation: relu6}", "x: [T, 4]"))
    assert checked.shapes is not None
    weights = Plan(checked, dims={"T": 2}).weights(None)
    with pytest.raises(ExportError, match="r: ONNX's GRU operator has no activation relu6"):
        export_model(checked.shapes, weights)


def test_onnx_embedding_gathers_int32_indices() -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto

    from specc.interop.onnx import export_model

    checked = check_text(TOKENS)
    assert checked.shapes is not None
    plan = Plan(checked, dims={"T": 6}, batch=2)
    data = plan.inputs(seed=1)
    weights = plan.weights(None)
    model = export_model(checked.shapes, weights)
    assert model.graph.input[0].type.tensor_type.elem_type == TensorProto.INT32
    assert [n.op_type for n in model.graph.node] == ["Gather", "Cast", "MatMul", "Add"]
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"tok": data.arrays["tok"]})
    for g, w in zip(got, plan.run_all(data.arrays, weights).values(), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


# -- Keras as the oracle --------------------------------------------------------------------


def _keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def _keras_layer(keras: Any, op: Any) -> Any:
    """The Keras layer of a spec op (float32: JAX's default)."""
    if op.type == "embedding":
        return keras.layers.Embedding(op.input_dim, op.output_dim)
    if op.type == "bidirectional":
        inner = _keras_layer(keras, op.layer)
        return keras.layers.Bidirectional(inner, merge_mode=op.merge_mode)
    common = {
        "activation": op.activation,
        "recurrent_activation": op.recurrent_activation,
        "use_bias": op.bias,
        "return_sequences": op.return_sequences,
    }
    if op.type == "gru":
        return keras.layers.GRU(op.units, reset_after=op.reset_after, **common)
    return keras.layers.LSTM(op.units, **common)


KERAS_CASES = [
    # each structure once (JAX compiles every case: about two seconds each)
    *((body, "x: [T, 4]") for body in RNN_CASES if "activation: relu, " not in body),
    ("{type: embedding, input_dim: 9, output_dim: 3}", "x: {shape: [T], dtype: int32}"),
]


@pytest.mark.parametrize(("body", "inputs"), KERAS_CASES)
def test_keras_counts_and_outputs_agree(body: str, inputs: str) -> None:
    keras = _keras()
    checked = check_text(spec(f"- {body}", inputs))
    assert checked.ok and checked.shapes is not None, checked.diagnostics
    (info,) = checked.shapes.layers.values()
    plan = Plan(checked, dims={"T": 5}, batch=2)
    data = plan.inputs(seed=1)
    weights = plan.weights(None, seed=2)
    _random_biases(weights, 5)
    x = data.arrays["x"]
    integer = x.dtype.kind == "i"
    inp = keras.Input((5,) if integer else (5, 4), dtype="int32" if integer else "float32")
    model = keras.Model(inp, _keras_layer(keras, info.layer.op)(inp))
    assert model.count_params() == info.param_count
    # the spec's weight layouts are Keras's, in Keras's order (forward, then backward)
    model.set_weights([weights[f"{info.layer.name}.{p.name}"] for p in info.params])
    want = np.asarray(model(x))
    (got,) = plan.run_all(data.arrays, weights).values()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


# -- explain --------------------------------------------------------------------------------


def test_explain_writes_the_parameter_formulas_with_numbers() -> None:
    from specc.explain import render_layer

    result = run(
        spec(
            """
            - {name: g, type: gru, units: 64, inputs: x}
            - {name: l, type: lstm, units: 64, inputs: x}
            - {name: b, type: bidirectional, layer: {type: gru, units: 8, reset_after: false}, inputs: x}
            - {name: e, type: embedding, input_dim: 1000, output_dim: 64, inputs: tok}
            """,
            "x: [T, 80]\n  tok: {shape: [T], dtype: int32}",
        )
    )
    assert result.shapes is not None
    costs = measure(result.shapes)
    assert "3 x (64 x (80 + 64) + 2 x 64) = 28,032" in render_layer(costs, "g")
    lstm = render_layer(costs, "l")
    assert "4 x (64 x (80 + 64) + 64) = 37,120" in lstm
    assert "MACs: T steps x 4 x 64 x (80 + 64) = 36864*T" in lstm
    assert "2 x 3 x (8 x (80 + 8) + 8) = 4,272" in render_layer(costs, "b")
    assert "1000 x 64 = 64,000" in render_layer(costs, "e")
