"""`specc import` of Keras models: configs written by hand (tests/data/keras/*.json, no Keras
needed) with hand-computed shapes and parameter counts, the command itself, and, where Keras
is installed, small models saved as .keras whose imported specs agree with Keras's outputs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from specc.api import check_text
from specc.cli import app
from specc.interop.importing import ImportFailed, ImportResult, import_model
from specc.lower import Plan
from specc.ops.base import REGISTRY

DATA = Path(__file__).parent / "data" / "keras"


def _layers(done: ImportResult) -> dict[str, tuple[str, dict[str, Any]]]:
    model = done.checked.model
    assert model is not None
    return {layer.name: (layer.op.type, layer.op.attr_values()) for layer in model.layers}


def _params(done: ImportResult) -> int:
    shapes = done.checked.shapes
    assert shapes is not None
    return sum(int(info.param_count) for info in shapes.layers.values())  # type: ignore[call-overload]


def _checks(done: ImportResult) -> None:
    checked = check_text(done.text, "imported.yaml")
    assert checked.ok, checked.diagnostics


def test_sequential_cnn() -> None:
    done = import_model(DATA / "sequential_cnn.json")
    _checks(done)
    layers = _layers(done)
    assert [t for t, _ in layers.values()] == [
        "conv2d", "max_pool2d", "conv2d", "batch_norm", "flatten", "dropout", "dense",
    ]  # fmt: skip
    conv1, conv2 = layers["conv1"][1], layers["conv2"][1]
    assert (conv1["kernel"], conv1["padding"], conv1["activation"]) == (3, "valid", "relu")
    assert (conv2["stride"], conv2["padding"], conv2["activation"]) == (2, "same", None)
    assert layers["pool1"][1]["stride"] is None  # Keras's strides equal to the pool
    assert layers["bn2"][1]["epsilon"] == 1e-05
    assert layers["logits"][1]["activation"] == "softmax"
    shapes = done.checked.shapes
    assert shapes is not None
    # 28 -> 26 (3x3 valid) -> 13 (pool 2) -> 7 (same, stride 2: ceil(13 / 2)); 7 * 7 * 16 = 784
    assert shapes.types["flatten"].shape == (784,)  # type: ignore[union-attr]
    assert _params(done) == (3 * 3 * 1 * 8 + 8) + (3 * 3 * 8 * 16 + 16) + 4 * 16 + (784 * 10 + 10)
    assert done.weights == {} and not done.has_weights
    assert "Weights: none" in done.text
    assert "inputs:\n  pixels: [28, 28, 1]\n" in done.text


def test_functional_residual_with_add() -> None:
    done = import_model(DATA / "residual.json")
    _checks(done)
    layers = _layers(done)
    assert "noop" not in layers  # a linear Activation computes nothing
    assert layers["residual_add"][0] == "add"
    model = done.checked.model
    assert model is not None
    by_name = {layer.name: layer for layer in model.layers}
    assert by_name["residual_add"].inputs == ("stem", "block_b")
    assert by_name["gap"].inputs == ("out_relu",)
    assert layers["block_relu"][0] == "relu"
    conv = 3 * 3 * 16 * 16 + 16
    assert _params(done) == (3 * 3 * 3 * 16 + 16) + 2 * conv + 4 * 16 + (16 * 10 + 10)


def test_squeeze_and_excitation_broadcasts_the_gate_keras2_format() -> None:
    done = import_model(DATA / "squeeze_excite.json")
    _checks(done)
    layers = _layers(done)
    assert layers["squeeze"] == ("global_avg_pool", {"keepdims": True})
    assert layers["excite"][0] == "multiply"
    shapes = done.checked.shapes
    assert shapes is not None
    assert shapes.types["expand"].shape == (1, 1, 32)  # type: ignore[union-attr]
    assert shapes.types["excite"].shape == (8, 8, 32)  # type: ignore[union-attr]
    assert _params(done) == (32 * 8 + 8) + (8 * 32 + 32)


def test_rnn_with_bidirectional() -> None:
    if not {"lstm", "gru", "bidirectional"} <= set(REGISTRY):
        with pytest.raises(ImportFailed, match="needs the layer type bidirectional"):
            import_model(DATA / "rnn.json")
        return
    done = import_model(DATA / "rnn.json")
    _checks(done)
    layers = _layers(done)
    assert layers["encoder"][0] == "bidirectional"
    assert layers["encoder"][1]["layer"].return_sequences
    assert "features: [T, 20]" in done.text  # Keras's open time axis is the symbol T
    lstm = 4 * (16 * (20 + 16) + 16)  # 4 gates, kernel + recurrent kernel + bias
    gru = 3 * 8 * (32 + 8) + 2 * 3 * 8  # reset_after: two biases
    assert _params(done) == 2 * lstm + gru + (8 + 1)


def test_unsupported_classes_are_listed_with_counts_and_first_names() -> None:
    with pytest.raises(ImportFailed) as info:
        import_model(DATA / "unsupported.json")
    assert "Lambda (2, first: lambda); PReLU (1, first: p_re_lu)" in str(info.value)


def test_shared_layers_are_refused(tmp_path: Path) -> None:
    text = (DATA / "residual.json").read_text()
    path = tmp_path / "shared.json"
    call = '{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["image", 0, 0]}}], "kwargs": {}}'
    path.write_text(
        text.replace('"inbound_nodes": [{"args"', f'"inbound_nodes": [{call}, {{"args"', 1)
    )
    with pytest.raises(ImportFailed, match="shared layers are not supported"):
        import_model(path)


def test_cli_writes_the_spec_without_weights_and_never_overwrites(tmp_path: Path) -> None:
    source = tmp_path / "residual.json"
    shutil.copy(DATA / "residual.json", source)
    runner = CliRunner()
    target = tmp_path / "x.yaml"
    first = runner.invoke(app, ["import", str(source), "-o", str(target)])
    assert first.exit_code == 0, first.output
    assert "no weights" in first.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["residual.json", "x.yaml"]
    assert runner.invoke(app, ["check", str(target)]).exit_code == 0
    again = runner.invoke(app, ["import", str(source), "-o", str(target)])
    assert again.exit_code == 2 and "already exists" in again.output
    forced = runner.invoke(app, ["import", str(source), "-o", str(target), "--force"])
    assert forced.exit_code == 0, forced.output
    run = runner.invoke(app, ["run", str(target)])
    assert run.exit_code == 0, run.output


def test_cli_unsupported_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "odd.json"
    shutil.copy(DATA / "unsupported.json", source)
    result = CliRunner().invoke(app, ["import", str(source)])
    assert result.exit_code == 1
    assert "Lambda (2, first: lambda)" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd.json"]


def test_legacy_h5_and_other_suffixes_are_refused(tmp_path: Path) -> None:
    (tmp_path / "m.h5").write_bytes(b"")
    with pytest.raises(ImportFailed, match=r"\.keras files"):
        import_model(tmp_path / "m.h5")


# -- Keras as the oracle ------------------------------------------------------------------------
def _keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    pytest.importorskip("h5py")
    keras.utils.set_random_seed(0)
    return keras


def _agrees(keras: Any, model: Any, tmp_path: Path, *xs: np.ndarray) -> ImportResult:
    """Save, import, and compare the parameter count and the outputs (float32, 1e-4)."""
    for layer in model.layers:  # statistics away from their initial 0 and 1
        for w in layer.weights:
            if w.path.endswith(("moving_mean", "moving_variance")):
                w.assign(np.random.default_rng(1).uniform(0.5, 1.5, w.shape).astype("float32"))
    path = tmp_path / "m.keras"
    model.save(path)
    done = import_model(path)
    checked = check_text(done.text, "m.yaml")
    assert checked.ok, checked.diagnostics
    assert _params(done) == model.count_params()
    assert sum(w.size for w in done.weights.values()) == model.count_params()
    want = np.asarray(model(list(xs) if len(xs) > 1 else xs[0]))
    plan = Plan(checked, max_memory=None)
    names = [x.name for x in checked.model.inputs]  # type: ignore[union-attr]
    got = plan.run(xs[0] if len(xs) == 1 else dict(zip(names, xs, strict=True)), done.weights)
    scale = max(float(np.abs(want).max()), 1.0)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * scale)
    return done


def test_keras_cnn_with_squeeze_excite_and_upsampling(tmp_path: Path) -> None:
    keras = _keras()
    L = keras.layers
    i = keras.Input((12, 12, 3), name="image")
    x = L.Conv2D(8, 3, padding="same", activation="relu")(i)
    x = L.BatchNormalization()(x)
    y = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(x)
    gate = L.GlobalAveragePooling2D(keepdims=True)(y)
    gate = L.Dense(16, activation="sigmoid")(L.Dense(4, activation="swish")(gate))
    y = L.Conv2D(8, 1, use_bias=False)(L.Multiply()([y, gate]))
    x = L.Add()([x, y])
    x = L.MaxPooling2D(2)(x)
    x = L.Cropping2D(((1, 0), (0, 1)))(L.ZeroPadding2D(((1, 0), (0, 1)))(x))
    x = L.UpSampling2D(interpolation="bilinear")(x)
    x = L.Conv2DTranspose(4, 3, strides=2, padding="same", activation="leaky_relu")(x)
    x = L.ReLU(6.0)(L.AveragePooling2D(2, strides=1, padding="same")(x))
    x = L.Reshape((-1, 4))(x)
    x = L.TimeDistributed(L.Dense(5, activation="gelu"))(x)
    x = L.Dense(3, activation="softmax")(L.Flatten()(L.Dropout(0.2)(x)))
    model = keras.Model(i, x)
    xs = np.random.default_rng(0).standard_normal((2, 12, 12, 3)).astype(np.float32)
    done = _agrees(keras, model, tmp_path, xs)
    assert _layers(done)["conv2d_transpose_activation"] == ("leaky_relu", {"alpha": 0.2})


def test_keras_sequence_model_with_attention_and_merges(tmp_path: Path) -> None:
    keras = _keras()
    L = keras.layers
    i = keras.Input((10, 6), name="frames")
    ctx = keras.Input((4, 6), name="context")
    x = L.Conv1D(6, 3, padding="causal", dilation_rate=2, activation="elu")(i)
    a = L.MultiHeadAttention(num_heads=2, key_dim=3)(x, ctx)
    x = L.Subtract()([x, a])
    x = L.Concatenate(axis=2)([x, L.LeakyReLU(0.1)(x)])
    x = L.Permute((2, 1))(x)
    x = L.ELU(0.5)(L.Identity()(x))
    x = L.UpSampling1D(2)(L.ZeroPadding1D((1, 2))(x))
    x = L.MaxPooling1D(3, strides=2)(L.Cropping1D((0, 1))(x))
    x = L.GlobalMaxPooling1D()(L.Softmax()(x))
    model = keras.Model([i, ctx], x)
    rng = np.random.default_rng(0)
    xs = (rng.standard_normal((2, 10, 6)), rng.standard_normal((2, 4, 6)))
    _agrees(keras, model, tmp_path, *(v.astype(np.float32) for v in xs))


def test_keras_volumes(tmp_path: Path) -> None:
    keras = _keras()
    L = keras.layers
    i = keras.Input((6, 6, 6, 2))
    x = L.Conv3D(3, 2, strides=(1, 2, 1), padding="same", activation="tanh")(i)
    x = L.ZeroPadding3D(1)(L.UpSampling3D((1, 2, 1))(x))
    x = L.AveragePooling3D(2)(L.Cropping3D(((0, 1), (1, 0), (1, 1)))(x))
    x = L.GlobalAveragePooling3D()(L.MaxPooling3D(1)(L.SpatialDropout3D(0.1)(x)))
    model = keras.Sequential([i, *[layer for layer in keras.Model(i, x).layers[1:]]])
    xs = np.random.default_rng(0).standard_normal((1, 6, 6, 6, 2)).astype(np.float32)
    _agrees(keras, model, tmp_path, xs)


NEWER = {"separable_conv1d", "conv1d_transpose", "layer_norm", "group_norm", "rescaling",
         "normalization", "lstm", "gru", "bidirectional"}  # fmt: skip


def test_keras_layers_of_newer_types(tmp_path: Path) -> None:
    if not set(REGISTRY) >= NEWER:
        pytest.skip(
            "this specc lacks some of the types: " + ", ".join(sorted(NEWER - set(REGISTRY)))
        )
    keras = _keras()
    L = keras.layers
    i = keras.Input((12, 4))
    x = L.Rescaling(0.5, offset=-0.25)(i)
    norm = L.Normalization()
    norm.adapt(np.random.default_rng(2).standard_normal((8, 12, 4)).astype(np.float32))
    x = norm(x)
    x = L.SeparableConv1D(8, 3, padding="same", depth_multiplier=2, activation="relu")(x)
    x = L.GroupNormalization(groups=2)(x)
    x = L.Conv1DTranspose(6, 3, strides=2, padding="same")(x)
    x = L.LayerNormalization()(x)
    x = L.Bidirectional(L.GRU(5, return_sequences=True), merge_mode="sum")(x)
    x = L.LSTM(3)(x)
    model = keras.Model(i, x)
    xs = np.random.default_rng(0).standard_normal((2, 12, 4)).astype(np.float32)
    _agrees(keras, model, tmp_path, xs)


APPLICATIONS = os.environ.get("SPECC_KERAS_APPLICATIONS") == "1"


@pytest.mark.skipif(not APPLICATIONS, reason="set SPECC_KERAS_APPLICATIONS=1 (about 15 s a model)")
@pytest.mark.parametrize(
    "name",
    [
        "MobileNetV2",
        "ResNet50",
        "DenseNet121",
        "EfficientNetB0",
        "Xception",
        "VGG16",
        "InceptionV3",
    ],
)
def test_keras_applications(name: str, tmp_path: Path) -> None:
    needs = {"EfficientNetB0": {"rescaling", "normalization"}, "Xception": {"separable_conv2d"}}
    if not needs.get(name, set()) <= set(REGISTRY):
        pytest.skip(f"{name} needs layer types this specc lacks")
    keras = _keras()
    model = getattr(keras.applications, name)(
        weights=None, input_shape=(96, 96, 3), classifier_activation=None
    )
    xs = np.random.default_rng(0).uniform(0, 255, (1, 96, 96, 3)).astype(np.float32)
    _agrees(keras, model, tmp_path, xs)


@pytest.mark.skipif(not APPLICATIONS, reason="set SPECC_KERAS_APPLICATIONS=1 (about 15 s a model)")
@pytest.mark.parametrize(
    ("name", "refused"),
    [
        ("MobileNetV3Small", r"keras\.ops\.Add \(9, first: add\); keras\.ops\.Multiply \(9"),
        ("ConvNeXtTiny", r"LayerScale \(18, .*Sequential \(4"),
    ],
)
def test_keras_applications_refused(name: str, refused: str, tmp_path: Path) -> None:
    keras = _keras()
    model = getattr(keras.applications, name)(weights=None, input_shape=(96, 96, 3))
    model.save(tmp_path / "m.keras")
    with pytest.raises(ImportFailed, match=refused):
        import_model(tmp_path / "m.keras")
