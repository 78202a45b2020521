"""`specc plan` and `specc run` through the real app: output, files, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from specc.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run(*argv: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in argv])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_run_prints_shape_stats_and_time() -> None:
    code, out, _ = run("run", EXAMPLES / "residual_block.yaml")
    assert code == 0
    assert out.startswith("probs: shape (1, 10) float32  min ")
    assert "wall time: " in out and "(batch 1, float32, 19 steps)" in out


def test_profile_prints_every_step() -> None:
    code, out, _ = run("run", EXAMPLES / "mnist_two_convs.yaml", "--profile", "--batch", "2")
    assert code == 0
    assert "GFLOP/s" in out and "share" in out
    assert "im2col+gemm" in out and "by step kind:" in out


def test_output_files_are_written_once_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "y.npy"
    assert run("run", EXAMPLES / "mnist_two_convs.yaml", "-o", out, "--seed", "1")[0] == 0
    first = out.read_bytes()
    assert np.load(out).shape == (1, 28, 28, 32)
    code, _, err = run("run", EXAMPLES / "mnist_two_convs.yaml", "-o", out, "--seed", "2")
    assert code == 2 and "already exists; pass --force" in err
    assert out.read_bytes() == first
    assert (
        run("run", EXAMPLES / "mnist_two_convs.yaml", "-o", out, "--seed", "2", "--force")[0] == 0
    )
    assert out.read_bytes() != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["y.npy"]


def test_several_outputs_go_to_an_npz_keyed_by_name(tmp_path: Path) -> None:
    spec = EXAMPLES / "conv1x1_vs_dense.yaml"
    code, _, err = run("run", spec, "-o", tmp_path / "y.npy")
    assert code == 2 and "2 outputs (pointwise_conv, per_pixel_dense); use a .npz file" in err
    assert run("run", spec, "-o", tmp_path / "y.npz")[0] == 0
    with np.load(tmp_path / "y.npz") as z:
        assert sorted(z.files) == ["per_pixel_dense", "pointwise_conv"]


def test_saved_weights_and_input_reproduce_the_output_bit_for_bit(tmp_path: Path) -> None:
    spec = EXAMPLES / "residual_block.yaml"
    w, x = tmp_path / "w.npz", tmp_path / "x.npy"
    np.save(x, np.random.default_rng(0).standard_normal((2, 32, 32, 3)))
    args = ["run", spec, "-i", x, "--seed", "5"]
    assert run(*args, "--save-weights", w, "-o", tmp_path / "a.npy")[0] == 0
    before = w.read_bytes(), x.read_bytes()
    assert run("run", spec, "-i", x, "-w", w, "-o", tmp_path / "b.npy")[0] == 0
    assert np.load(tmp_path / "a.npy").tobytes() == np.load(tmp_path / "b.npy").tobytes()
    assert (w.read_bytes(), x.read_bytes()) == before
    code, _, err = run("run", spec, "-i", x, "-o", x, "--force")
    assert code == 2 and "is also an input of the run" in err
    assert x.read_bytes() == before[1]


def test_output_and_saved_weights_must_be_different_files(tmp_path: Path) -> None:
    same = tmp_path / "both.npz"
    code, _, err = run("run", EXAMPLES / "mnist_two_convs.yaml", "-o", same, "--save-weights", same)
    assert code == 2 and "name the same file" in err
    assert list(tmp_path.iterdir()) == []


def test_weights_problems_are_one_error_with_expected_shapes(tmp_path: Path) -> None:
    w = tmp_path / "w.npz"
    np.savez(w, **{"conv1.kernel": np.zeros((3, 3, 1, 8)), "conv9.bias": np.zeros(2)})
    code, _, err = run("run", EXAMPLES / "mnist_two_convs.yaml", "-w", w)
    assert code == 1
    assert err.startswith(f"specc: error: weights file {w} do not match the spec")
    assert "wrong shape conv1.kernel: got (3, 3, 1, 8), expected (3, 3, 1, 16)" in err
    assert "missing conv2.kernel: expected shape (3, 3, 16, 32)" in err
    assert "extra conv9.bias" in err


def test_input_mistakes_are_one_clear_line(tmp_path: Path) -> None:
    spec = EXAMPLES / "channels_10x5x6.yaml"
    code, _, err = run("run", spec, "-i", tmp_path / "missing.npy")
    assert code == 2 and "no such file" in err
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((1, 5, 11, 6)))
    code, _, err = run("run", spec, "-i", bad)
    assert code == 1 and "input 'image': axis 2 is 11 in the data, but the spec says 10" in err
    nan = tmp_path / "nan.npy"
    np.save(nan, np.full((1, 5, 10, 6), np.nan))
    code, _, err = run("run", spec, "-i", nan)
    assert code == 0 and "specc: warning: input file" in err and "NaN or Inf" in err
    code, _, err = run("run", spec, "-i", nan, "--batch", "3")
    assert code == 1 and "--batch 3 contradicts the input data, whose batch is 1" in err


def test_symbolic_dims_come_from_dim_or_the_data(tmp_path: Path) -> None:
    spec = EXAMPLES / "speech_frontend.yaml"
    code, _, err = run("run", spec)
    assert code == 1 and "T of the spec is not bound" in err and "--dim T=" in err
    code, out, _ = run("run", spec, "--dim", "T=100")
    assert code == 0 and "relu2: shape (1, 25, 20, 32)" in out
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((2, 37, 80, 3), np.float32))
    code, out, _ = run("run", spec, "-i", x)
    assert code == 0 and "relu2: shape (2, 10, 20, 32)" in out
    code, _, err = run("run", spec, "-i", x, "--dim", "T=40")
    assert code == 1 and "is 37 in the data, but T = 40 (given)" in err


def test_memory_budget_names_the_peak_and_the_budget() -> None:
    code, _, err = run("run", EXAMPLES / "resnet18.yaml", "--batch", "8", "--max-memory", "50M")
    assert code == 1 and "over the memory budget of 50.0 MiB" in err and "at peak" in err
    code, _, err = run("run", EXAMPLES / "resnet18.yaml", "--max-memory", "lots")
    assert code == 2 and "invalid size 'lots'" in err


def test_spec_errors_are_diagnostics(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "specc: 1\nname: t\ninputs:\n  x: [8, 8, 3]\nlayers:\n  - {type: conv2d, filters: 4}\n"
    )
    code, _, err = run("run", bad)
    assert code == 1 and f"{bad}:6:5: E101" in err
    code, _, err = run("plan", tmp_path / "absent.yaml")
    assert code == 2 and "E001" in err


def test_ctrl_c_exits_130_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from specc.lower import program

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(program.Executable, "run", interrupted)
    code, _, err = run("run", EXAMPLES / "mnist_two_convs.yaml", "-o", tmp_path / "y.npy")
    assert code == 130 and "interrupted" in err
    assert list(tmp_path.iterdir()) == []


def test_plan_table_and_json() -> None:
    code, out, _ = run("plan", EXAMPLES / "residual_block.yaml", "--batch", "4")
    assert code == 0
    assert out.startswith("plan of residual-block: batch 4, float32, 19 steps")
    assert "stem+stem_bn" in out and "in place" in out and "peak memory: " in out
    code, out, _ = run("plan", EXAMPLES / "speech_frontend.yaml", "--dim", "T=1000", "-f", "json")
    data = json.loads(out)
    assert code == 0 and data["dims"] == {"T": 1000} and data["batch"] == 1
    assert data["steps"][-1]["output"]["shape"] == [1, 250, 20, 32]
    assert data["memory"]["peak"] > data["memory"]["activations"] > 0
    conv = data["steps"][1]
    assert conv["inputs"][0]["memory"].startswith("buffer ") and conv["kind"] == "im2col+gemm"


def test_run_as_a_real_process_exits_cleanly(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "specc",
            "run",
            str(EXAMPLES / "keras_question.yaml"),
            "-w",
            str(tmp_path / "no.npz"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 2 and out.stderr.startswith("specc: error: weights file")
    assert "Traceback" not in out.stderr


def cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used so far (Linux), or None where /proc is not there."""
    import os

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_real_ctrl_c_leaves_no_partial_file(tmp_path: Path) -> None:
    import signal
    import time

    out = tmp_path / "y.npy"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "specc",
            "run",
            str(EXAMPLES / "resnet18.yaml"),
            "--batch",
            "64",
            "-o",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Interrupt inside the run: after about 1.5 s of CPU (imports and compilation take well
    # under a second; the batch-64 run takes several), however loaded the machine is.
    deadline = time.monotonic() + 60
    while child.poll() is None and time.monotonic() < deadline:
        used = cpu_seconds(child.pid)
        if used is None:
            time.sleep(3.0)
            break
        if used >= 1.5:
            break
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    if child.returncode == 0:
        pytest.skip("the run finished before the interrupt arrived")
    assert child.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    assert list(tmp_path.iterdir()) == []
