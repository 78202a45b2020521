"""`specc export --to keras`: the generated source, and (with Keras) the model it builds
against `specc run` on the same weights and inputs."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from export_cases import Case, cases, drawn, relative_error
from hypothesis import HealthCheck, assume, given, settings

from specc.interop.keras import GenerateError, generate
from specc.interop.keras.site import GENERATORS
from specc.ops import REGISTRY
from tests.strategies import Network, networks

CASES = cases()
IDS = [c.name for c in CASES]
KINDS = sorted(REGISTRY)


def namespace(case: Case) -> dict[str, Any]:
    source = generate(case.shapes)
    scope: dict[str, Any] = {}
    exec(compile(source, f"{case.name}_keras.py", "exec"), scope)
    return scope


def test_every_layer_type_has_a_keras_generator() -> None:
    assert list(GENERATORS.missing()) == []


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_source_compiles_and_defines_the_model(case: Case) -> None:
    source = generate(case.shapes)
    code = compile(source, f"{case.name}.py", "exec")
    names = set(code.co_names)
    assert {"build_model", "load_specc_weights", "SPECC_WEIGHTS"} <= names
    assert f'name="{case.shapes.model.name}"' in source


def ruff() -> str:
    found = shutil.which("ruff")
    if found is None:
        pytest.skip("ruff is not installed")
    return found


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_source_is_ruff_clean(case: Case) -> None:
    """`ruff check` and `ruff format` with the project's settings leave it as it is."""
    _ruff_clean(case)


@pytest.mark.parametrize("kind", KINDS)
def test_the_source_of_every_layer_type_is_ruff_clean(kind: str) -> None:
    _ruff_clean(drawn(kind))


def _ruff_clean(case: Case) -> None:
    source = generate(case.shapes)
    root = Path(__file__).resolve().parent.parent
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [ruff(), *command, "--stdin-filename", "generated.py", "-"],
            input=source, text=True, capture_output=True, cwd=root,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_layer_keras_cannot_express_is_one_clear_error() -> None:
    case = Case(
        "t",
        "specc: 1\nname: t\ninputs:\n  x: [T, 8, 3]\nlayers:\n"
        "  - {name: c, type: conv2d, filters: 2, kernel: 3, stride: 2, dilation: 2, padding: same}\n",
        {},
    )
    with pytest.raises(GenerateError, match=r"^c: the Keras export of conv2d .*symbolic"):
        generate(case.shapes)


def test_attention_in_time_distributed_is_one_clear_error() -> None:
    case = Case(
        "t",
        "specc: 1\nname: t\ninputs:\n  x: [3, 4, 6]\nlayers:\n"
        "  - {name: td, type: time_distributed, layer: {type: multi_head_attention, num_heads: 2,"
        " key_dim: 2}}\n",
        {},
    )
    with pytest.raises(GenerateError, match=r"^td: .*TimeDistributed calls its layer on one"):
        generate(case.shapes)


def test_strides_with_dilation_keep_every_sth_output() -> None:
    """Keras refuses both on one layer: the layer runs at stride 1 and a pooling of one cell
    keeps every s-th output."""
    case = Case(
        "t",
        "specc: 1\nname: t\ninputs:\n  x: [9, 8, 3]\nlayers:\n"
        "  - {name: c, type: conv2d, filters: 2, kernel: 3, stride: 2, dilation: 2, padding: same}\n",
        {},
    )
    source = generate(case.shapes)
    assert 'layers.Conv2D(2, 3, dilation_rate=2, name="c")' in source
    assert 'layers.MaxPooling2D(1, strides=2, name="c_stride")' in source


# -- against Keras ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras() -> Iterator[Any]:
    """Keras on JAX, whose random initialisers are replaced by NumPy's: JAX compiles one
    program per weight shape to draw them (ten seconds for MobileNetV2), and every weight is
    replaced by the spec's before anything runs."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    backend_random = _backend_random(keras)
    saved = {name: getattr(backend_random, name, None) for name in DRAWS}
    rng = np.random.default_rng(0)

    def draw(shape: Any, *args: Any, dtype: Any = None, **kwargs: Any) -> Any:
        return keras.ops.convert_to_tensor(rng.normal(0, 0.05, shape).astype(np.float32))

    for name in saved:
        if saved[name] is not None:
            setattr(backend_random, name, draw)
    yield keras
    for name, function in saved.items():
        if function is not None:
            setattr(backend_random, name, function)


DRAWS = ("normal", "uniform", "truncated_normal")


def _backend_random(keras: Any) -> Any:
    import importlib

    try:
        return importlib.import_module(f"keras.src.backend.{keras.backend.backend()}.random")
    except ImportError:
        return None  # another layout of Keras: draw as it does


def keras_outputs(keras: Any, case: Case, tmp_path: Path) -> tuple[Any, dict[str, Any]]:
    """The exported model with the reference's weights, its outputs, and the reference's."""
    inputs, weights, want = case.reference()
    scope = namespace(case)
    model = scope["build_model"]()
    needed = set(case.shapes.model.outputs)  # the functional model holds only these layers
    for layer in reversed(case.shapes.model.layers):
        if layer.name in needed:
            needed.update(layer.inputs)
    total = sum(p.size for key, p in weights.items() if key.rsplit(".", 1)[0] in needed)
    assert model.count_params() == total
    path = tmp_path / "weights.npz"
    np.savez(path, **weights)
    scope["load_specc_weights"](model, str(path))
    names = [x.name for x in case.shapes.model.inputs]
    got = model([inputs[n] for n in names] if len(names) > 1 else inputs[names[0]])
    got = got if isinstance(got, list | tuple) else [got]
    return want, dict(zip(case.shapes.model.outputs, got, strict=True))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_keras_computes_what_specc_run_does(keras: Any, case: Case, tmp_path: Path) -> None:
    agree(keras, case, tmp_path)


@pytest.mark.parametrize("kind", KINDS)
def test_every_layer_type_computes_what_specc_run_does(
    keras: Any, kind: str, tmp_path: Path
) -> None:
    """A small seeded network starting with each registered type: a new type is covered
    without being listed here."""
    agree(keras, drawn(kind), tmp_path)


@settings(
    max_examples=int(os.environ.get("SPECC_KERAS_EXAMPLES", "6")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture,
    ],
)  # fmt: skip
@given(network=networks(max_layers=5))
def test_random_networks_compute_what_specc_run_does(keras: Any, network: Network) -> None:
    """Random networks (the same ones every run; each new shape costs Keras a compilation,
    so few); those with a layer the export refuses, with a GenerateError, are left out."""
    case = Case("drawn", network.text, network.dims)
    try:
        generate(case.shapes)
    except GenerateError:
        assume(False)
    with tempfile.TemporaryDirectory() as directory:
        agree(keras, case, Path(directory))


def agree(keras: Any, case: Case, tmp_path: Path) -> None:
    want, got = keras_outputs(keras, case, tmp_path)
    for name, array in got.items():
        assert relative_error(np.asarray(array), want[name]) < 1e-4, name
