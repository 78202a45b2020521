"""Oracle: torchvision classification models, exported by torch.onnx.export here (random
weights, nothing downloaded), imported, and run by specc as onnxruntime runs the file.

One small model runs by default; SPECC_TORCHVISION=1 runs every family of docs/import.md.
Batch-norm statistics are randomised first, so that no layer is the identity by accident.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from specc.api import check_text
from specc.lower import Plan

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from specc.interop.importing import import_model  # noqa: E402

ALL = os.environ.get("SPECC_TORCHVISION") == "1"
heavy = pytest.mark.skipif(not ALL, reason="set SPECC_TORCHVISION=1 to run every family")

# family -> (constructor, input size); every family of docs/import.md's table.
IMPORTED = {
    "resnet18": 224,
    "resnet50": 224,
    "resnext50_32x4d": 224,
    "wide_resnet50_2": 224,
    "densenet121": 224,
    "inception_v3": 299,
    "googlenet": 224,
    "mobilenet_v2": 224,
    "shufflenet_v2_x0_5": 224,
    "efficientnet_b0": 224,
    "efficientnet_v2_s": 224,
    "regnet_x_400mf": 224,
    "regnet_y_400mf": 224,
    "vgg11": 224,
    "alexnet": 224,
    "squeezenet1_0": 224,
    "mnasnet0_5": 224,
    "mobilenet_v3_small": 224,
    "convnext_tiny": 224,
}


def _export(name: str, size: int, path: Path) -> torch.nn.Module:
    torch.manual_seed(0)
    kwargs = (
        {"aux_logits": False, "init_weights": True} if name in ("inception_v3", "googlenet") else {}
    )
    model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            torch.randn(1, 3, size, size),
            str(path),
            dynamo=False,
            opset_version=17,
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}},
            training=torch.onnx.TrainingMode.PRESERVE,  # keeps batch norms as layers
        )
    return model


def _check(name: str, size: int, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.onnx"
    model = _export(name, size, path)
    done = import_model(path)
    checked = check_text(done.text, f"{name}.yaml")
    assert checked.ok, checked.diagnostics
    trainable = sum(
        p.size
        for k, p in done.weights.items()
        if not k.endswith(("moving_mean", "moving_variance"))
    )
    assert trainable == sum(p.numel() for p in model.parameters())
    x = np.random.default_rng(0).standard_normal((1, 3, size, size)).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (want,) = session.run(None, {"image": x})
    got = Plan(checked, max_memory=None).run(np.moveaxis(x, 1, -1), done.weights)
    scale = float(np.abs(want).max())
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * scale)


def test_resnet18_imports_and_agrees(tmp_path: Path) -> None:
    _check("resnet18", 224, tmp_path)


@heavy
@pytest.mark.parametrize("name", [n for n in IMPORTED if n != "resnet18"])
def test_family_imports_and_agrees(name: str, tmp_path: Path) -> None:
    _check(name, IMPORTED[name], tmp_path)
