"""`specc export --to pytorch`: the generated source, and (with PyTorch) the module it defines
against `specc run` on the same weights and inputs, and one training step."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from export_cases import Case, cases, drawn, relative_error
from hypothesis import HealthCheck, assume, given, settings

from specc.interop.pysource import camel
from specc.interop.torch import GenerateError, generate
from specc.interop.torch.site import GENERATORS
from specc.ops import REGISTRY
from tests.strategies import Network, networks

CASES = cases()
IDS = [c.name for c in CASES]
KINDS = sorted(REGISTRY)


def test_every_layer_type_has_a_pytorch_generator() -> None:
    assert list(GENERATORS.missing()) == []


@pytest.mark.parametrize(
    ("name", "cls"),
    [("keras-question", "KerasQuestion"), ("resnet18", "Resnet18"), ("mobilenet-v2", "MobilenetV2"),
     ("3d_net", "Model3dNet"), ("none", "ModelNone"), ("", "Model")],
)  # fmt: skip
def test_the_class_is_named_after_the_spec(name: str, cls: str) -> None:
    assert camel(name) == cls


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_source_compiles_and_defines_the_module(case: Case) -> None:
    source = generate(case.shapes)
    compile(source, f"{case.name}.py", "exec")
    cls = camel(case.shapes.model.name)
    assert f"\nclass {cls}(nn.Module):\n" in source
    assert "    def load_specc_weights(self, path: str) -> None:\n" in source


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_source_is_ruff_clean(case: Case) -> None:
    """`ruff check` and `ruff format` with the project's settings leave it as it is."""
    _ruff_clean(case)


@pytest.mark.parametrize("kind", KINDS)
def test_the_source_of_every_layer_type_is_ruff_clean(kind: str) -> None:
    _ruff_clean(drawn(kind))


def _ruff_clean(case: Case) -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    source = generate(case.shapes)
    root = Path(__file__).resolve().parent.parent
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [ruff, *command, "--stdin-filename", "generated.py", "-"],
            input=source, text=True, capture_output=True, cwd=root,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr


def test_no_size_is_written_where_the_spec_has_a_symbol() -> None:
    """The speech front end's time axis is padded from its size at run time; the mel axis,
    80 wide, gets its (0, 1) from the spec."""
    source = generate(next(c for c in CASES if c.name == "speech_frontend").shapes)
    assert "F.pad(features, (0, 1, *same_pad(features.shape[2], 3, 2)))" in source
    assert "nn.Conv2d(3, 32, kernel_size=3, stride=2)" in source


def test_padding_pytorch_expresses_is_the_layers_own() -> None:
    mnist = generate(next(c for c in CASES if c.name == "mnist_two_convs").shapes)
    assert 'nn.Conv2d(1, 16, kernel_size=3, padding="same")' in mnist
    assert "F.pad" not in mnist and "same_pad" not in mnist
    resnet = generate(next(c for c in CASES if c.name == "resnet18").shapes)
    assert "nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)" in resnet
    assert "nn.BatchNorm2d(64, eps=1e-05, momentum=0.01)" in resnet


def test_a_layer_pytorch_cannot_express_is_one_clear_error() -> None:
    case = Case(
        "t",
        "specc: 1\nname: t\ninputs:\n  x: [T, U, 8]\nlayers:\n"
        "  - {name: r, type: reshape, shape: [T, U, 2, 4]}\n",
        {},
    )
    with pytest.raises(GenerateError, match=r"^r: the PyTorch export of reshape .*2 symbolic"):
        generate(case.shapes)


# -- against PyTorch ----------------------------------------------------------------------


def module(case: Case) -> Any:
    """An instance of the generated module."""
    scope: dict[str, Any] = {}
    exec(compile(generate(case.shapes), f"{case.name}_torch.py", "exec"), scope)
    return scope[camel(case.shapes.model.name)]()


def first(array: np.ndarray) -> np.ndarray:
    """A batch of channels-last samples as channels-first (vectors stay as they are)."""
    return np.ascontiguousarray(np.moveaxis(array, -1, 1)) if array.ndim > 2 else array


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_pytorch_computes_what_specc_run_does(case: Case, tmp_path: Path) -> None:
    agree(case, tmp_path)


@pytest.mark.parametrize("kind", KINDS)
def test_every_layer_type_computes_what_specc_run_does(kind: str, tmp_path: Path) -> None:
    """A small seeded network starting with each registered type: a new type is covered
    without being listed here."""
    agree(drawn(kind), tmp_path)


@settings(
    max_examples=int(os.environ.get("SPECC_PYTORCH_EXAMPLES", "20")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(networks(max_layers=5))
def test_random_networks_compute_what_specc_run_does(network: Network) -> None:
    """Random networks (the same ones every run); those with a layer the export refuses,
    with a GenerateError (a symbolic channel count), are left out."""
    case = Case("drawn", network.text, network.dims)
    try:
        generate(case.shapes)
    except GenerateError:
        assume(False)
    with tempfile.TemporaryDirectory() as directory:
        agree(case, Path(directory))


def test_attention_in_time_distributed_attends_within_each_step(tmp_path: Path) -> None:
    """Keras's TimeDistributed cannot call attention (it passes one tensor); the PyTorch
    export folds the steps into the batch as for any inner layer."""
    text = (
        "specc: 1\nname: t\ninputs:\n  x: [T, 4, 6]\nlayers:\n"
        "  - {name: td, type: time_distributed, layer: {type: multi_head_attention,"
        " num_heads: 2, key_dim: 3, value_dim: 2, output_shape: 5}}\n"
    )
    agree(Case("t", text, {"T": 3}), tmp_path)


def agree(case: Case, tmp_path: Path) -> None:
    """The generated module has the spec's trainable parameters (those that train: batch-norm
    and Normalization statistics are buffers), loads its weights and computes what
    `specc run` does."""
    torch = pytest.importorskip("torch")
    inputs, weights, want = case.reference()
    model = module(case).eval()
    trainable = sum(p.trainable_count for p in case.shapes.layers.values())
    # PyTorch's LSTM has a second bias that Keras's lacks: it stays zero, out of training.
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == trainable
    path = tmp_path / "weights.npz"
    np.savez(path, **weights)
    model.load_specc_weights(str(path))
    xs = [  # indices have no channel axis: they are taken as they are
        torch.from_numpy(inputs[x.name] if x.integer else first(inputs[x.name]))
        for x in case.shapes.model.inputs
    ]
    with torch.no_grad():
        got = model(*xs)
    got = got if isinstance(got, tuple) else (got,)
    for name, tensor in zip(case.shapes.model.outputs, got, strict=True):
        array = tensor.numpy()
        array = np.moveaxis(array, 1, -1) if array.ndim > 2 else array
        assert relative_error(array, want[name]) < 1e-4, name


@pytest.mark.parametrize(
    ("name", "shape"),
    [("resnet18", (2, 3, 64, 64)), ("mobilenet_v2", (2, 3, 64, 64)), ("speech_frontend", (2, 3, 16, 80))],
)  # fmt: skip
def test_one_training_step(name: str, shape: tuple[int, ...]) -> None:
    torch = pytest.importorskip("torch")
    case = next(c for c in CASES if c.name == name)
    model = module(case).train()
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss = model(torch.randn(*shape)).square().mean()
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    changed = [not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True)]
    assert any(changed)
