"""`specc export --to keras`: the generated source, and (with Keras) the model it builds
against `specc run` on the same weights and inputs."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from export_cases import Case, cases, relative_error

from specc.interop.keras import GenerateError, generate
from specc.interop.keras.site import GENERATORS

CASES = cases()
IDS = [c.name for c in CASES]


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
    total = sum(p.size for p in weights.values())
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
    want, got = keras_outputs(keras, case, tmp_path)
    for name, array in got.items():
        assert relative_error(np.asarray(array), want[name]) < 1e-4, name
