"""ONNX export, proven by ONNX's own tools: the checker, shape inference and onnxruntime agree
with specc on every example, every registered layer type and random networks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from numpy.typing import NDArray
from typer.testing import CliRunner

from specc.api import Checked, check_text
from specc.cli import app
from specc.dims import substitute
from specc.interop.onnx import export_model
from specc.interop.onnx.export import unsupported
from specc.lower import Plan
from specc.ops import REGISTRY
from tests.conftest import EXAMPLES, example_dims
from tests.strategies import Network, network_with, networks

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _random_stats(weights: dict[str, NDArray], seed: int) -> None:
    """Batch-norm statistics and biases away from their neutral initial values."""
    rng = np.random.default_rng(seed)
    for key, a in weights.items():
        if key.endswith((".gamma", ".moving_variance")):
            a[...] = rng.uniform(0.5, 2.0, a.shape)
        elif key.endswith((".beta", ".moving_mean", ".bias")):
            a[...] = rng.normal(0, 0.5, a.shape)


def _agree(checked: Checked, dims: dict[str, int], layout: str = "last", seed: int = 0) -> None:
    """Export, check, infer shapes, run in onnxruntime and compare with `specc run`."""
    assert checked.shapes is not None
    plan = Plan(checked, dims=dims, max_memory=None)
    data = plan.inputs(seed=seed)
    weights = plan.weights(None, seed=seed, dims=data.dims)
    _random_stats(weights, seed)
    model = export_model(checked.shapes, weights, layout=layout)  # type: ignore[arg-type]
    onnx.checker.check_model(model, full_check=True)
    # The initializers hold exactly the parameters of the layers the outputs need.
    needed = set(checked.shapes.model.outputs)
    for layer in reversed(checked.shapes.model.layers):
        if layer.name in needed:
            needed |= set(layer.inputs)
    exported = {n.name: int(np.prod(n.dims)) for n in model.graph.initializer}
    params = {
        f"{name}.{p.name}": int(np.prod([substitute(d, dims) for d in p.shape]))  # type: ignore[misc]
        for name, info in checked.shapes.layers.items()
        if name in needed
        for p in info.params
    }
    assert {k: v for k, v in exported.items() if k in params} == params
    _shapes_agree(model, checked, dims, layout)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {k: _to(layout, v) for k, v in data.arrays.items()}
    got = session.run(None, feeds)
    want = plan.prepare(data.arrays, weights).run()
    for (name, y), g in zip(want.items(), got, strict=True):
        g = _from(layout, g)
        assert g.shape == y.shape, name
        scale = max(1.0, float(np.abs(y).max()) if y.size else 1.0)
        np.testing.assert_allclose(g, y, rtol=1e-4, atol=1e-4 * scale, err_msg=name)


def _to(layout: str, x: NDArray) -> NDArray:
    return np.moveaxis(x, -1, 1) if layout == "first" and x.ndim > 2 else x


def _from(layout: str, x: NDArray) -> NDArray:
    return np.moveaxis(x, 1, -1) if layout == "first" and x.ndim > 2 else x


def _dims(values: Any) -> dict[str, list[int | str | None]]:
    return {
        v.name: [
            d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
            for d in v.type.tensor_type.shape.dim
        ]
        for v in values
    }


def _shapes_agree(model: Any, checked: Checked, dims: dict[str, int], layout: str) -> None:
    """Every spec layer's value is declared with the shape specc inferred (channels-last, or
    channels-first inside the graph), and ONNX's own shape inference agrees (strict mode fails
    on any contradiction)."""
    declared = _dims((*model.graph.value_info, *model.graph.output))
    inferred = _dims(onnx.shape_inference.infer_shapes(model, strict_mode=True).graph.value_info)
    assert checked.shapes is not None
    for name, info in checked.shapes.layers.items():
        if name not in declared:
            continue  # not needed by the outputs
        spec = [d if isinstance(d, int) else str(d) for d in info.output.shape]
        first = [spec[-1], *spec[:-1]] if len(spec) > 1 else spec
        assert declared[name][1:] in (spec, first), (name, declared[name], spec)
        for d, g in zip(declared[name], inferred.get(name, declared[name]), strict=True):
            assert not (isinstance(d, int) and isinstance(g, int)) or d == g, (name, d, g)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_exports_and_runs_the_same(path: Path) -> None:
    _agree(check_text(path.read_text(), str(path)), example_dims(path))


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_registered_type_exports(kind: str) -> None:
    network = network_with(kind)
    checked = check_text(network.text)
    assert checked.ok and checked.shapes is not None, checked.diagnostics
    assert unsupported(checked.shapes) == []
    _agree(checked, network.dims)


def test_channels_first_inputs_and_outputs() -> None:
    path = EXAMPLES / "residual_block.yaml"
    _agree(check_text(path.read_text(), str(path)), {}, layout="first")


@settings(
    max_examples=int(os.environ.get("SPECC_EXPORT_EXAMPLES", "25")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(networks())
def test_random_networks_export_and_run_the_same(network: Network) -> None:
    checked = check_text(network.text)
    assert checked.ok, checked.diagnostics
    _agree(checked, network.dims, seed=len(network.text))


def test_symbolic_dims_are_named_and_one_file_serves_every_length(tmp_path: Path) -> None:
    path = EXAMPLES / "speech_frontend.yaml"
    checked = check_text(path.read_text(), str(path))
    assert checked.shapes is not None
    plan = Plan(checked, max_memory=None)
    model = export_model(checked.shapes, plan.weights(None))
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["N", "T", 80, 3]
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for t in (16, 41):  # ceil(T/4) frames out
        (y,) = session.run(None, {"features": np.zeros((2, t, 80, 3), np.float32)})
        assert y.shape[:2] == (2, -(-t // 4))


def test_the_cli_writes_a_file_that_loads(tmp_path: Path) -> None:
    spec = tmp_path / "q.yaml"
    spec.write_text((EXAMPLES / "keras_question.yaml").read_text())
    result = CliRunner().invoke(app, ["export", str(spec), "--to", "onnx", "--seed", "3"])
    assert result.exit_code == 0, result.output
    model = onnx.load(str(tmp_path / "q.onnx"))
    names = {v.name for v in model.graph.value_info} | {o.name for o in model.graph.output}
    assert {"conv1", "conv2"} <= names  # each spec layer is a named value
    again = CliRunner().invoke(app, ["export", str(spec), "--to", "onnx"])
    assert again.exit_code == 2 and "already exists" in again.output
    onto_spec = CliRunner().invoke(app, ["export", str(spec), "-o", str(spec), "--force"])
    assert onto_spec.exit_code == 2 and spec.read_text().startswith("#")


def test_run_on_onnxruntime_prints_what_the_numpy_engine_does(tmp_path: Path) -> None:
    spec = str(EXAMPLES / "keras_question.yaml")
    runner = CliRunner()
    numpy_run = runner.invoke(app, ["run", spec, "--seed", "4", "-o", str(tmp_path / "a.npy")])
    ort_run = runner.invoke(
        app, ["run", spec, "--seed", "4", "--engine", "onnxruntime", "-o", str(tmp_path / "b.npy")]
    )
    assert numpy_run.exit_code == ort_run.exit_code == 0, ort_run.output
    assert (
        numpy_run.output.splitlines()[0].split()[:4] == ort_run.output.splitlines()[0].split()[:4]
    )
    assert "onnxruntime)" in ort_run.output
    np.testing.assert_allclose(
        np.load(tmp_path / "b.npy"), np.load(tmp_path / "a.npy"), rtol=1e-4, atol=1e-4
    )
    double = runner.invoke(app, ["run", spec, "--engine", "onnxruntime", "--dtype", "float64"])
    assert double.exit_code == 2 and "float32 only" in double.output
