"""`specc explain`: the derivations, word for word where the wording is the point."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import specc.explain as explain_package
import specc.passes.costs as costs_module
from specc.api import check_file, check_text
from specc.cli import app
from specc.explain import explain_layer, explain_model, render_layer
from specc.explain.facts import PER_SLICE
from specc.ir import TensorType
from specc.ops import REGISTRY, Problem
from specc.ops.base import Json
from specc.passes.costs import measure
from specc.schema import build_schema
from specc.schema_predicate import compile_schema

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
runner = CliRunner()


def invoke(*args: object):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def explain(path: Path, layer: str) -> str:
    result = invoke("explain", path, layer)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_keras_question_second_conv() -> None:
    out = explain(EXAMPLES / "keras_question.yaml", "conv2")
    expected = [
        # where C_in comes from
        "conv1 -> (91, 91, 8): the output of conv1 (conv2d)",
        "C_in = 8 (channels are the last axis)",
        # the kernel in words, in both layouts
        "Kernel (7, 7, 8, 16)  layout (k..., C_in/groups, filters); PyTorch stores (16, 8, 7, 7)",
        "16 filters, each 7 x 7 over all 8 input channels",
        # parameters with the formula filled in
        "16 x (7 x 7 x 8 + 1) = 6,288",
        "kernel 7 x 7 x 8 x 16 = 6,272, bias 16",
        # each output axis: (91 + 0 + 0 - 7) / 1 + 1
        "axis 0 (height): floor((91 + 0 + 0 - 7) / 1) + 1 = 85",
        "axis 1 (width): floor((91 + 0 + 0 - 7) / 1) + 1 = 85",
        "channels: 16 = filters",
        # cost
        "MACs: 85 x 85 x 16 outputs x (7 x 7 x 8) each = 45,315,200",
        "FLOPs: 2 x MACs = 90,630,400",
        "85 x 85 x 16 x 4 B = 462,400 B (451.6 KiB) per sample",
        # receptive field: conv1 reads 11 pixels, conv2 adds (7 - 1) x 1
        "axis 0 (height): size 11 + (7 - 1) x 1 = 17; jump 1 x 1 = 1",
        # the (7, 7, 16) the question expected: 16 filters of 7 x 7 that each see one channel
        "the (7, 7, 16) one might expect",
        "conv2d groups: 8: kernel (7, 7, 1, 16), output (85, 85, 16), 800 params",
        "depthwise_conv2d multiplier: 2: kernel (7, 7, 8, 2), output (85, 85, 16), 800 params",
        # separable: 8 x (49 + 1) + 16 x (8 + 1) = 400 + 144
        "depthwise_conv2d kernel (7, 7, 8, 1) + 1 x 1 kernel (1, 1, 8, 16): 544 params",
    ]
    for line in expected:
        assert line in out, line


def test_a_1x1_convolution_is_a_dense_layer_per_pixel() -> None:
    out = explain(EXAMPLES / "conv1x1_vs_dense.yaml", "pointwise_conv")
    assert "A 1 x 1 convolution is a dense layer at each position" in out
    assert "dense(units: 16) on (32, 32, 64) has kernel (64, 16)" in out
    assert "same parameters (1,040)" in out
    dense = explain(EXAMPLES / "conv1x1_vs_dense.yaml", "per_pixel_dense")
    assert "16 x (64 + 1) = 1,040" in dense
    assert "a 1 x 1 convolution with kernel (1, 1, 64, 16)" in dense


def test_depthwise_grouped_transposed_and_symbolic_layers(tmp_path: Path) -> None:
    spec = tmp_path / "mix.yaml"
    spec.write_text(
        "specc: 1\nname: mix\ninputs: {x: [T, 40, 6]}\nlayers:\n"
        "  - {name: g, type: conv2d, filters: 8, kernel: 3, groups: 2, dilation: 2,"
        " padding: same}\n"
        "  - {name: dw, type: depthwise_conv2d, kernel: 3, multiplier: 2, stride: 2,"
        " padding: same}\n"
        "  - {name: up, type: conv2d_transpose, filters: 4, kernel: 3, stride: 2}\n"
    )
    g = explain(spec, "g")
    assert (
        "8 filters in 2 groups of 4; each filter is 3 x 3 over the 3 channels of its group (6 / 2)"
        in g
    )
    assert "kernel 3 dilated by 2: 2 x (3 - 1) + 1 = 5" in g
    assert "same: ceil(T / 1) = T" in g
    assert "MACs: T x 40 x 8 outputs x (3 x 3 x 3) each = 8640*T" in g
    dw = explain(spec, "dw")
    assert "each of the 8 input channels has its own 2 filters of 3 x 3" in dw
    assert "8 x 2 x (3 x 3 + 1) = 160" in dw
    assert "same: ceil(T / 2) = ceil(T/2)" in dw
    assert "conv2d filters: 16: kernel (3, 3, 8, 16)" in dw
    up = explain(spec, "up")
    assert "Kernel (3, 3, 4, 16)  layout (k..., filters, C_in)" in up
    assert "valid: ceil(T/2) x 2 + max(3 - 2, 0) = 2*ceil(T/2)+1" in up
    # the transposed conv reads at most ceil(3 / 2) = 2 inputs per output
    assert "each output reads at most 2 input positions" in up


def test_whole_model_is_compact_with_totals_and_constraints(tmp_path: Path) -> None:
    spec = tmp_path / "valid.yaml"
    spec.write_text(
        "specc: 1\nname: t\ninputs: {x: [T, 80, 3]}\nlayers:\n"
        "  - {name: c1, type: conv2d, filters: 4, kernel: 3, stride: 2}\n"
        "  - {name: c2, type: conv2d, filters: 4, kernel: 3, stride: 2}\n"
    )
    result = invoke("explain", spec)
    assert result.exit_code == 0, result.output
    assert "c1 (conv2d): x (T, 80, 3) -> (floor((T-1)/2), 39, 4)" in result.output
    assert "params 4 x (3 x 3 x 3 + 1) = 112" in result.output
    assert "T >= 7: below that, c2 axis 0" in result.output
    assert "smallest valid T: 7" in result.output


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_layer_of_every_example_explains(path: Path) -> None:
    result = check_file(path)
    assert result.shapes is not None
    costs = measure(result.shapes)
    summary = explain_model(costs)
    for layer in result.shapes.model.layers:
        assert f"\n{layer.name} ({layer.type}):" in summary
        assert render_layer(costs, layer.name).startswith(f"{layer.name}: {layer.type}")


def test_unknown_layer_exits_2_with_a_suggestion() -> None:
    result = invoke("explain", EXAMPLES / "keras_question.yaml", "conv3")
    assert result.exit_code == 2
    assert "no layer named 'conv3'; did you mean 'conv2'?" in result.output


def test_a_broken_spec_shows_its_errors_and_what_is_known(tmp_path: Path) -> None:
    spec = tmp_path / "skip.yaml"
    spec.write_text(
        "specc: 1\nname: t\ninputs: {x: [T, 8, 4]}\nlayers:\n"
        "  - {name: down, type: conv2d, filters: 4, kernel: 3, stride: 2, padding: same}\n"
        "  - {name: up, type: upsample2d}\n"
        "  - {name: skip, type: add, inputs: [up, x]}\n"
    )
    result = invoke("explain", spec)
    assert result.exit_code == 1
    assert "S102" in result.output
    assert "up (upsample2d): down (ceil(T/2), 4, 4) -> (2*ceil(T/2), 8, 4)" in result.output
    assert "skip (add): shapes unknown" in result.output
    # the rows agree only when 2 x ceil(T/2) = T
    assert "skip needs T a multiple of 2" in result.output
    one = invoke("explain", spec, "skip")
    assert one.exit_code == 1 and "its shapes are unknown" in one.output


def test_dim_fills_every_formula_with_numbers() -> None:
    result = invoke("explain", EXAMPLES / "speech_frontend.yaml", "conv2", "--dim", "T=1000")
    assert result.exit_code == 0, result.output
    # T = 1000: conv1 gives ceil(1000 / 2) = 500 rows, conv2 ceil(500 / 2) = 250
    assert "axis 0 (height): same: ceil(500 / 2) = 250" in result.output
    assert "MACs: 250 x 20 x 32 outputs x (3 x 3 x 32) each = 46,080,000" in result.output
    assert invoke("explain", EXAMPLES / "speech_frontend.yaml", "--dim", "T=0").exit_code == 1


def test_a_receptive_field_too_fine_to_track_says_so(tmp_path: Path) -> None:
    spec = tmp_path / "ups.yaml"
    spec.write_text(
        "specc: 1\nname: ups\ninputs: {x: [4, 4, 1]}\nlayers:\n"
        "  - {type: upsample2d, size: [1000, 1]}\n"
        "  - {type: conv2d, filters: 1, kernel: [3, 1]}\n"
        "  - {type: upsample2d, size: [1000, 1]}\n"
        "  - {name: last, type: conv2d, filters: 1, kernel: [3, 1]}\n"
    )
    out = explain(spec, "last")
    assert "not computed: after these upsamplings" in out and "more than 4,096 positions" in out
    table = invoke("report", spec, "--columns", "name,rf")
    rows = {line.split()[0]: line.split()[1:] for line in table.output.splitlines() if line}
    assert table.exit_code == 0 and rows["last"] == ["?"]


@pytest.mark.parametrize(
    ("dim", "expected"), [((), ["measure"]), (("--dim", "T=1000"), ["infer", "measure"])]
)
def test_explain_infers_and_measures_once(
    dim: tuple[str, ...], expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # check_file has inferred the spec's shapes; only --dim infers them again, with T bound.
    calls: list[str] = []
    infer, measure = explain_package.infer, costs_module.measure
    monkeypatch.setattr(explain_package, "infer", lambda *a: calls.append("infer") or infer(*a))
    monkeypatch.setattr(costs_module, "measure", lambda s: calls.append("measure") or measure(s))
    result = invoke("explain", EXAMPLES / "speech_frontend.yaml", "conv2", *dim)
    assert result.exit_code == 0, result.output
    assert calls == expected


# -- every registered type, from its declared attributes ----------------------------------------

LayerData = dict[str, Any]  # a layer's mapping as a spec writes it, without name and inputs
INPUTS = [(6,) * rank + (4,) for rank in range(5)]  # (4,), (6, 4), ... (6, 6, 6, 6, 4)
SINGLE = sorted(name for name, cls in REGISTRY.items() if cls.inner_attr is None)


def _examples(schema: Json) -> list[Any]:
    """A few small values that `schema` accepts, read off its keywords (none if it is opaque)."""
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return [v for v in schema["enum"] if v is not None]
    if "oneOf" in schema:
        return [v for option in schema["oneOf"] for v in _examples(option)]
    kind = schema.get("type")
    if kind == "integer":
        low = schema.get("minimum", 0)
        return [v for v in (low + 2, low + 1, low) if v <= schema.get("maximum", v)]
    if kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 2))
        return [(low + high) / 2]
    if kind == "boolean":
        return [True, False]
    if kind == "array":
        return [[v] * schema.get("minItems", 1) for v in _examples(schema.get("items", {}))]
    return []


def _default(cls: type, name: str) -> Any:
    return next(a.default for a in cls.attributes() if a.name == name)


def _layer(name: str, inner: LayerData | None = None) -> tuple[LayerData, tuple[int, ...]]:
    """A layer of type `name` and the smallest input in INPUTS that its op accepts: optional
    attributes keep their defaults where they fit (else their declared examples), required ones
    take values from their schemas, and a wrapper's inner layer is `inner`."""
    cls = REGISTRY[name]
    choices: dict[str, list[Any]] = {}
    for a in cls.attributes():
        if a.required and a.name == cls.inner_attr:
            assert inner is not None, f"{name} wraps a layer: give it one"
            choices[a.name] = [inner]
        elif a.required:
            values = _examples(a.schema)
            assert values, f"{name}.{a.name}: no value can be read off its schema {a.schema}"
            choices[a.name] = values
        elif a.examples:  # a default such as group_norm's 32 groups fits no small input
            choices[a.name] = [a.default, *(v for v in a.examples if v != a.default)]
    for shape in INPUTS:
        inputs = [TensorType(shape)] * cls.min_inputs
        for values in itertools.product(*choices.values()):
            chosen = zip(choices, values, strict=True)
            layer = {"type": name, **{k: v for k, v in chosen if v != _default(cls, k)}}
            op = cls.from_mapping(layer)
            try:
                op.infer(inputs)
                op.params(inputs)
            except Problem:
                continue
            return layer, shape
    pytest.fail(f"{name}: no input in {INPUTS} with attributes from its schema fits its op")


DEFS = build_schema()["$defs"]


def _wraps(wrapper: str, inner: str) -> bool:
    """Whether the wrapper's schema takes an inner layer of this type (bidirectional: lstm, gru)."""
    cls = REGISTRY[wrapper]
    schema = next(a.schema for a in cls.attributes() if a.name == cls.inner_attr)
    return compile_schema(schema, DEFS)(_layer(inner)[0])


CASES = [(name, None) for name in SINGLE] + [
    (wrapper, inner)
    for wrapper in sorted(REGISTRY)
    if REGISTRY[wrapper].inner_attr is not None
    for inner in SINGLE
    if REGISTRY[inner].min_inputs == 1 and _wraps(wrapper, inner)
]


def _declared(layer: LayerData, shape: list[int]) -> Any:
    """The input as the layer needs it: integer indices for an embedding (or a wrapper of one)."""
    op = REGISTRY[layer["type"]].from_mapping(layer)
    return {"shape": shape, "dtype": "int32"} if op.index_bound() is not None else shape


@pytest.mark.parametrize(
    ("name", "inner"), CASES, ids=[n if i is None else f"{n}-{i}" for n, i in CASES]
)
def test_every_registered_type_explains(name: str, inner: str | None) -> None:
    layer, shape = _layer(name, None if inner is None else _layer(inner)[0])
    names = [f"x{i}" for i in range(REGISTRY[name].min_inputs)]
    spec = {
        "specc": 1,
        "name": "one",
        "inputs": {x: _declared(layer, list(shape)) for x in names},
        "layers": [{"name": "it", "inputs": names, **layer}],
    }
    result = check_text(json.dumps(spec))
    assert result.ok and result.shapes is not None, result.diagnostics
    costs = measure(result.shapes)
    titles = [s.title.removeprefix(PER_SLICE) for s in explain_layer(costs, "it")]
    assert titles[0].startswith("Input") and titles[-1].startswith("Receptive field")
    assert "Cost" in titles and any(t.startswith("Output") for t in titles), titles
    assert render_layer(costs, "it").startswith(f"it: {name}, line ")
    assert f"\nit ({name}): " in explain_model(costs)
