"""Weights and array files: seeded init, one error for every mismatch, bit-exact round trips,
read-only loading and atomic writes."""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pytest

from specc.api import check_file, compile
from specc.lower import DataNote, DataWarning, RunError, io
from tests.conftest import spec

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_keys_and_shapes_are_the_keras_layouts_the_report_prints() -> None:
    checked = check_file(EXAMPLES / "mobilenet_v2.yaml")
    assert checked.shapes is not None
    report = {
        f"{name}.{p.name}": p.shape
        for name, info in checked.shapes.layers.items()
        for p in info.params
    }
    shapes = compile(EXAMPLES / "mobilenet_v2.yaml").weight_shapes()
    assert shapes == report
    assert shapes["block1_dw.kernel"] == (3, 3, 96, 1)
    assert shapes["classifier.kernel"] == (1280, 1000)


def test_seeded_init_is_he_normal_with_neutral_batch_norms() -> None:
    plan = compile(EXAMPLES / "resnet18.yaml")
    w = plan.init_weights(seed=0)
    k = w["layer3_0_conv2.kernel"]  # fan-in 3 * 3 * 256
    assert k.dtype == np.float32 and abs(k.std() - np.sqrt(2 / 2304)) < 0.002
    assert abs(k.mean()) < 0.001
    assert (w["fc.bias"] == 0).all() and (w["bn1.gamma"] == 1).all() and (w["bn1.beta"] == 0).all()
    assert (w["bn1.moving_mean"] == 0).all() and (w["bn1.moving_variance"] == 1).all()
    dw = compile(EXAMPLES / "mobilenet_v2.yaml").init_weights()["block2_dw.kernel"]
    assert abs(dw.std() - np.sqrt(2 / 9)) < 0.02  # a depthwise filter's fan-in is its 3x3 window


def test_init_depends_on_the_seed_and_the_layer_only() -> None:
    a = compile(EXAMPLES / "residual_block.yaml").init_weights(seed=1)
    b = compile(EXAMPLES / "residual_block.yaml").init_weights(seed=1)
    c = compile(EXAMPLES / "residual_block.yaml").init_weights(seed=2)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["stem.kernel"], c["stem.kernel"])
    # The same layer in another spec draws the same numbers.
    other = compile(spec("- {name: stem, type: conv2d, filters: 16, kernel: 3}", "x: [8, 8, 3]"))
    np.testing.assert_array_equal(other.init_weights(seed=1)["stem.kernel"], a["stem.kernel"])


def test_missing_extra_and_misshaped_weights_are_listed_in_one_error() -> None:
    plan = compile(EXAMPLES / "mnist_two_convs.yaml")
    w = plan.init_weights()
    del w["conv1.bias"]
    w["conv2.kernel"] = np.zeros((3, 3, 16, 31), np.float32)
    w["conv3.kernel"] = np.zeros(3)
    w["conv2.bias"] = np.zeros(32, np.complex64)
    with pytest.raises(RunError) as err:
        plan.run(None, w)
    lines = str(err.value).splitlines()
    assert lines[0] == (
        "the weights do not match the spec "
        "(1 missing, 1 with the wrong shape, 1 of the wrong type, 1 extra):"
    )
    assert "  missing conv1.bias: expected shape (16,)" in lines
    assert "  wrong shape conv2.kernel: got (3, 3, 16, 31), expected (3, 3, 16, 32)" in lines
    assert "  extra conv3.kernel (shape (3,)): the spec has no such parameter" in lines
    assert any(line.startswith("  wrong type conv2.bias: complex") for line in lines)


def test_integer_weights_are_converted_with_a_note_and_nan_is_a_warning() -> None:
    plan = compile(EXAMPLES / "channels_10x5x6.yaml")
    w = plan.init_weights()
    w["conv.bias"] = np.arange(16)
    w["conv.kernel"][0, 0, 0, 0] = np.inf
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan.run(None, w)
    messages = {w.category: str(w.message) for w in caught}
    assert "conv.bias (int64)" in messages[DataNote]
    assert "NaN or Inf values in conv.kernel" in messages[DataWarning]


def _digest(path: Path) -> tuple[str, float]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_saved_weights_reproduce_the_output_bit_for_bit(tmp_path: Path, dtype: str) -> None:
    plan = compile(EXAMPLES / "residual_block.yaml", batch=2, dtype=dtype)
    seeded = plan.init_weights(seed=9)
    io.save_arrays(tmp_path / "w.npz", seeded, force=False, what="weights file")
    before = _digest(tmp_path / "w.npz")
    first = plan.run(None, seeded, seed=3)
    again = compile(EXAMPLES / "residual_block.yaml", batch=2, dtype=dtype).run(
        None, tmp_path / "w.npz", seed=3
    )
    assert isinstance(first, np.ndarray) and isinstance(again, np.ndarray)
    assert first.tobytes() == again.tobytes()
    assert _digest(tmp_path / "w.npz") == before  # read, never written


def test_pickled_and_broken_files_are_refused_clearly(tmp_path: Path) -> None:
    plan = compile(EXAMPLES / "mnist_two_convs.yaml")
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, **{"conv1.kernel": np.array([object()], dtype=object)})
    with pytest.raises(RunError, match="pickled"):
        plan.run(None, pickled)
    text = tmp_path / "notes.npz"
    text.write_text("layer weights, as text\n")
    with pytest.raises(RunError, match=r"not a \.npy or \.npz file \(it does not start like one"):
        plan.run(None, text)
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(RunError, match=r"not a valid \.npy or \.npz file"):
        plan.run(None, broken)
    with pytest.raises(RunError, match="no such file") as err:
        plan.run(None, tmp_path / "absent.npz")
    assert err.value.exit_code == 2
    single = tmp_path / "one.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(RunError, match="a single array"):
        plan.run(None, single)


def test_atomic_write_never_replaces_without_force(tmp_path: Path) -> None:
    target = tmp_path / "out.npy"
    io.save_arrays(target, np.arange(3.0), force=False, what="output file")
    with pytest.raises(RunError, match="already exists; pass --force") as err:
        io.save_arrays(target, np.zeros(5), force=False, what="output file")
    assert err.value.exit_code == 2
    np.testing.assert_array_equal(np.load(target), np.arange(3.0))
    io.save_arrays(target, np.zeros(5), force=True, what="output file")
    np.testing.assert_array_equal(np.load(target), np.zeros(5))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npy"]
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # a normal file, not mkstemp's 0600


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, OSError])
def test_an_interrupted_write_leaves_no_file(
    tmp_path: Path, interruption: type[BaseException]
) -> None:
    def write(f: BinaryIO) -> None:
        f.write(b"half of the data")
        raise interruption()

    with pytest.raises(interruption):
        io.atomic_write(tmp_path / "out.npy", write, force=False, what="output file")
    assert list(tmp_path.iterdir()) == []
    existing = tmp_path / "keep.npy"
    existing.write_bytes(b"precious")
    with pytest.raises(interruption):
        io.atomic_write(existing, write, force=True, what="output file")
    assert existing.read_bytes() == b"precious" and list(tmp_path.iterdir()) == [existing]


def test_targets_are_checked_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(RunError, match=r"must end in \.npy or \.npz"):
        io.check_target(tmp_path / "out.txt", False, "output file")
    with pytest.raises(RunError, match="does not exist"):
        io.check_target(tmp_path / "nowhere" / "out.npy", False, "output file")
    (tmp_path / "d.npy").mkdir()
    with pytest.raises(RunError, match="is a directory"):
        io.check_target(tmp_path / "d.npy", False, "output file")
    (tmp_path / "x.npz").write_bytes(b"")
    with pytest.raises(RunError, match="already exists"):
        io.check_target(tmp_path / "x.npz", False, "output file")
    assert io.check_target(tmp_path / "x.npz", True, "output file") == tmp_path / "x.npz"


def test_input_files_are_opened_read_only(tmp_path: Path) -> None:
    x = tmp_path / "x.npy"
    np.save(x, np.ones((1, 5, 10, 6), np.float32))
    os.chmod(x, 0o444)
    before = _digest(x)
    out = compile(EXAMPLES / "channels_10x5x6.yaml").run(x)
    assert isinstance(out, np.ndarray) and out.shape == (1, 3, 8, 16)
    assert _digest(x) == before


def test_nested_wrappers_initialise_with_the_innermost_fan_in() -> None:
    # Each depthwise output reads the 3 x 3 taps of one channel: fan-in 9, whatever wraps it.
    text = (
        "specc: 1\nname: t\ninputs: {x: [2, 3, 6, 6, 8]}\nlayers:\n"
        "  - name: td\n    type: time_distributed\n    layer:\n"
        "      type: time_distributed\n      layer: {type: depthwise_conv2d, kernel: 3}\n"
    )
    params = compile(text).params()
    assert params["td.kernel"].fan_in == 9
    assert params["td.kernel"].init == "he_normal"
    assert params["td.bias"].init == "zeros"


def test_every_parameter_is_initialised_as_its_op_declares() -> None:
    # gamma and moving_variance start at one, beta, moving_mean and biases at zero.
    text = (
        "specc: 1\nname: t\ninputs: {x: [4, 4, 2]}\nlayers:\n"
        "  - {name: c, type: conv2d, filters: 3, kernel: 1}\n  - {name: bn, type: batch_norm}\n"
    )
    w = compile(text).init_weights()
    assert (w["bn.gamma"] == 1).all() and (w["bn.moving_variance"] == 1).all()
    assert (
        (w["bn.beta"] == 0).all() and (w["bn.moving_mean"] == 0).all() and (w["c.bias"] == 0).all()
    )
