"""`specc export --to pytorch|keras` through the real app: files, refusals and exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from specc.cli import app

ROOT = Path(__file__).resolve().parent.parent
QUESTION = ROOT / "examples" / "keras_question.yaml"


def run(*argv: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in argv])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    return Path(shutil.copy(QUESTION, tmp_path / "q.yaml"))


@pytest.mark.parametrize("target", ["pytorch", "keras"])
def test_export_writes_the_source_and_the_weights_beside_it(spec: Path, target: str) -> None:
    code, out, _ = run("export", spec, "--to", target, "--seed", "3")
    assert code == 0
    source, npz = spec.with_suffix(".py"), spec.with_suffix(".npz")
    assert out.strip() == f"wrote {source} and {npz}"
    compile(source.read_text(), str(source), "exec")
    with np.load(npz) as arrays:
        assert sorted(arrays) == ["conv1.bias", "conv1.kernel", "conv2.bias", "conv2.kernel"]
        assert arrays["conv2.kernel"].shape == (7, 7, 8, 16)  # Keras's layout, for both
    assert sorted(p.name for p in spec.parent.iterdir()) == ["q.npz", "q.py", "q.yaml"]


def test_given_weights_are_carried(spec: Path, tmp_path: Path) -> None:
    weights = tmp_path / "w.npz"
    given = {
        "conv1.kernel": np.ones((11, 11, 1, 8), np.float32),
        "conv1.bias": np.zeros(8, np.float32),
        "conv2.kernel": np.full((7, 7, 8, 16), 2.0, np.float32),
        "conv2.bias": np.ones(16, np.float32),
    }
    np.savez(weights, **given)
    out = tmp_path / "model.py"
    code, _, _ = run("export", spec, "--to", "pytorch", "-o", out, "--weights", weights)
    assert code == 0
    with np.load(tmp_path / "model.npz") as arrays:
        for key, array in given.items():
            np.testing.assert_array_equal(arrays[key], array)


@pytest.mark.parametrize("existing", ["q.py", "q.npz"])
def test_existing_files_are_kept_without_force(spec: Path, existing: str) -> None:
    (spec.parent / existing).write_text("mine")
    code, _, err = run("export", spec, "--to", "pytorch")
    assert code == 2
    assert "already exists; pass --force" in err
    assert (spec.parent / existing).read_text() == "mine"
    assert sorted(p.name for p in spec.parent.iterdir()) == sorted(["q.yaml", existing])
    code, _, _ = run("export", spec, "--to", "pytorch", "--force")
    assert code == 0
    assert "class KerasQuestion(nn.Module):" in spec.with_suffix(".py").read_text()


def test_the_spec_and_the_weights_are_never_outputs(spec: Path, tmp_path: Path) -> None:
    code, _, err = run("export", spec, "--to", "keras", "-o", spec, "--force")
    assert code == 2
    assert "is also an input of the export" in err
    weights = tmp_path / "w.npz"
    np.savez(weights, x=np.zeros(1))
    code, _, err = run(
        "export", spec, "--to", "pytorch", "-o", tmp_path / "w.py", "--weights", weights, "--force"
    )
    assert code == 2
    assert f"{weights} is also an input of the export" in err
    assert spec.read_text() == QUESTION.read_text()
    assert not (tmp_path / "w.py").exists()


@pytest.mark.parametrize(
    ("target", "layer", "expected"),
    [
        (
            "pytorch",
            "{name: r, type: reshape, shape: [T, U, 2, 4]}",
            "r: the PyTorch export of reshape",
        ),
        (
            "keras",
            "{name: r, type: reshape, shape: [T, U, 2, 4]}",
            "r: the Keras export of reshape",
        ),
    ],
)
def test_a_layer_the_target_cannot_express_is_one_line_and_nothing_is_written(
    tmp_path: Path, target: str, layer: str, expected: str
) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(f"specc: 1\nname: s\ninputs:\n  x: [T, U, 8]\nlayers:\n  - {layer}\n")
    code, out, err = run("export", spec, "--to", target)
    assert code == 1
    assert err.startswith(f"specc: error: {expected}") and err.count("\n") == 1
    assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]
