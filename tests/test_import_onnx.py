"""`specc import` on ONNX graphs built here with onnx.helper: each pattern exporters write
becomes the layer it stands for, and the imported spec computes what onnxruntime computes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from typer.testing import CliRunner

from specc.api import check_text
from specc.cli import app
from specc.lower import Plan

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from specc.interop.importing import ImportFailed, import_model  # noqa: E402

RNG = np.random.default_rng(0)


def weight(*shape: int, scale: float = 0.5) -> NDArray:
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


class G:
    """A graph under construction: nodes and initializers, with short helpers."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.n = 0

    def const(self, array: Any, name: str | None = None) -> str:
        self.n += 1
        name = name or f"c{self.n}"
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], name: str | None = None, **attrs: Any) -> str:
        self.n += 1
        scope = name or f"{op_type.lower()}_{self.n}"
        out = f"/{scope}/{op_type}_output_{self.n}"
        self.nodes.append(
            helper.make_node(op_type, inputs, [out], name=f"/{scope}/{op_type}", **attrs)
        )
        return out

    def model(self, out: str, shape: list[Any], opset: int = 17) -> Any:
        self.nodes.append(helper.make_node("Identity", [out], ["y.0"], name="output"))
        graph = helper.make_graph(
            self.nodes,
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
            [helper.make_tensor_value_info("y.0", TensorProto.FLOAT, None)],
            self.inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 8
        return model


def imported(
    model: Any, tmp_path: Path, shape: list[int]
) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    """The imported layers (type, non-default attributes), after checking that the spec runs
    as onnxruntime runs the model (the input channels first for rank > 2)."""
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    done = import_model(path)
    checked = check_text(done.text, "m.yaml")
    assert checked.ok, (done.text, checked.diagnostics)
    x = RNG.standard_normal(shape).astype(np.float32)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[
        0
    ]
    feed = np.moveaxis(x, 1, -1) if len(shape) > 2 else x  # every graph here is channels first
    got = Plan(checked, batch=shape[0], max_memory=None).run(feed, done.weights)
    if want.ndim > 2:
        got = np.moveaxis(got, -1, 1)
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * scale, err_msg=done.text)
    from specc.interop.spec_yaml import non_default

    layers = [
        (lay.type, non_default(lay.type, lay.op.attr_values())) for lay in checked.model.layers
    ]  # type: ignore[union-attr]
    return layers, done.text


def types(layers: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [t for t, _ in layers]


def conv(
    g: G,
    x: str,
    c_in: int,
    c_out: int,
    k: int = 3,
    bias: bool = True,
    name: str | None = None,
    **attrs: Any,
) -> str:
    group = attrs.get("group", 1)
    ins = [x, g.const(weight(c_out, c_in // group, k, k))]
    if bias:
        ins.append(g.const(weight(c_out)))
    return g.op("Conv", ins, name, kernel_shape=[k, k], **attrs)


def bn(g: G, x: str, c: int) -> str:
    return g.op(
        "BatchNormalization",
        [
            x,
            g.const(weight(c) + 1),
            g.const(weight(c)),
            g.const(weight(c)),
            g.const(np.abs(weight(c)) + 0.5),
        ],
        "bn",
        epsilon=1e-5,
    )


def test_conv_then_batch_norm_keeps_both_layers(tmp_path: Path) -> None:
    g = G()
    y = g.op("Relu", [bn(g, conv(g, "x", 3, 8, bias=False, pads=[1, 1, 1, 1]), 8)], "relu")
    layers, text = imported(g.model(y, ["N", 3, 10, 10]), tmp_path, [2, 3, 10, 10])
    assert layers == [
        ("conv2d", {"filters": 8, "kernel": 3, "padding": "same", "bias": False}),
        ("batch_norm", {"epsilon": 1e-5}),
        ("relu", {}),
    ]
    assert "inputs: [10, 10, 3]" not in text and "x: [10, 10, 3]" in text


def test_conv_activation_fuses_and_names_come_from_module_paths(tmp_path: Path) -> None:
    g = G()
    c = conv(g, "x", 3, 4, name="features/features.0/features.0.0")
    y = g.op("Relu", [c], "features/features.0/features.0.1")
    layers, text = imported(g.model(y, ["N", 3, 6, 6]), tmp_path, [1, 3, 6, 6])
    assert layers == [("conv2d", {"filters": 4, "kernel": 3, "activation": "relu"})]
    assert "name: features_0_0," in text


@pytest.mark.parametrize("form", ["gemm", "gemm_keras", "matmul_add", "matmul"])
def test_dense_forms(tmp_path: Path, form: str) -> None:
    g = G()
    if form.startswith("gemm"):
        w = weight(5, 6) if form == "gemm" else weight(6, 5)
        y = g.op("Gemm", ["x", g.const(w), g.const(weight(5))], transB=int(form == "gemm"))
    else:
        y = g.op("MatMul", ["x", g.const(weight(6, 5))])
        if form == "matmul_add":
            y = g.op("Add", [y, g.const(weight(5))])
    layers, _ = imported(g.model(y, ["N", 6]), tmp_path, [3, 6])
    assert layers == [("dense", {"units": 5} if form != "matmul" else {"units": 5, "bias": False})]


def test_nchw_flatten_into_dense_permutes_the_kernel_rows(tmp_path: Path) -> None:
    g = G()
    c = conv(g, "x", 2, 3, k=1)
    flat = g.op("Flatten", [c], axis=1)
    y = g.op("Gemm", [flat, g.const(weight(4, 3 * 5 * 4)), g.const(weight(4))], transB=1)
    layers, _ = imported(g.model(y, ["N", 2, 5, 4]), tmp_path, [2, 2, 5, 4])
    assert types(layers) == ["conv2d", "flatten", "dense"]


def test_shape_subgraphs_fold_into_a_flatten(tmp_path: Path) -> None:
    """PyTorch's x.view(x.size(0), -1) after a convolution."""
    g = G()
    c = conv(g, "x", 2, 3, k=3)
    shape = g.op("Shape", [c])
    batch = g.op("Gather", [shape, g.const(np.asarray(0, np.int64))], axis=0)
    lifted = g.op("Unsqueeze", [batch, g.const(np.asarray([0], np.int64))])
    target = g.op("Concat", [lifted, g.const(np.asarray([-1], np.int64))], axis=0)
    y = g.op("MatMul", [g.op("Reshape", [c, target]), g.const(weight(3 * 3 * 3, 2))])
    layers, _ = imported(g.model(y, ["N", 2, 5, 5]), tmp_path, [2, 2, 5, 5])
    assert types(layers) == ["conv2d", "flatten", "dense"]


def test_activation_patterns(tmp_path: Path) -> None:
    g = G()
    x = g.op("Clip", ["x", g.const(np.float32(0)), g.const(np.float32(6))])  # relu6
    s = g.op("Sigmoid", [x])
    x = g.op("Mul", [x, s])  # silu
    d = g.op("Div", [x, g.const(np.float32(np.sqrt(2)))])
    e = g.op("Add", [g.op("Erf", [d]), g.const(np.float32(1))])
    x = g.op("Mul", [g.op("Mul", [x, e]), g.const(np.float32(0.5))])  # gelu, PyTorch's order
    x = g.op("LeakyRelu", [x], alpha=0.1)
    x = g.op("Elu", [x], alpha=0.5)
    x = g.op("Tanh", [g.op("Dropout", [g.op("Identity", [x])])])
    x = g.op("Softmax", [x], axis=-1)
    layers, _ = imported(g.model(x, ["N", 7]), tmp_path, [2, 7])
    assert layers == [
        ("relu6", {}),
        ("silu", {}),
        ("gelu", {}),
        ("leaky_relu", {"alpha": 0.1}),
        ("elu", {"alpha": 0.5}),
        ("tanh", {}),
        ("softmax", {}),
    ]


@pytest.mark.parametrize("form", ["gap_flatten", "reduce_keep", "reduce_drop", "gmp"])
def test_global_pooling(tmp_path: Path, form: str) -> None:
    g = G()
    c = conv(g, "x", 2, 3)
    if form == "gap_flatten":
        y = g.op("Flatten", [g.op("GlobalAveragePool", [c])], axis=1)
    elif form == "gmp":
        y = g.op("GlobalMaxPool", [c])
    else:
        y = g.op("ReduceMean", [c], axes=[2, 3], keepdims=int(form == "reduce_keep"))
    layers, _ = imported(g.model(y, ["N", 2, 6, 6]), tmp_path, [2, 2, 6, 6])
    kind = "global_max_pool" if form == "gmp" else "global_avg_pool"
    keep = {"keepdims": True} if form in ("reduce_keep", "gmp") else {}
    assert layers[1] == (kind, keep)


def test_pad_then_conv_is_explicit_padding(tmp_path: Path) -> None:
    g = G()
    p = g.op("Pad", ["x", g.const(np.asarray([0, 0, 2, 1, 0, 0, 0, 1], np.int64))], mode="constant")
    layers, _ = imported(g.model(conv(g, p, 2, 3), ["N", 2, 6, 6]), tmp_path, [1, 2, 6, 6])
    assert layers == [("conv2d", {"filters": 3, "kernel": 3, "padding": ((2, 0), (1, 1))})]


def test_pools_with_padding(tmp_path: Path) -> None:
    g = G()
    r = g.op("Relu", [conv(g, "x", 2, 3, k=1)])
    m = g.op("MaxPool", [r], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    a = g.op("AveragePool", [m], kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)
    s = g.op("AveragePool", [a], kernel_shape=[3, 3], pads=[1, 1, 1, 1])  # same: excluded
    layers, _ = imported(g.model(s, ["N", 2, 8, 8]), tmp_path, [1, 2, 8, 8])
    assert types(layers) == [
        "conv2d",
        "zero_pad2d",
        "max_pool2d",
        "zero_pad2d",
        "avg_pool2d",
        "avg_pool2d",
    ]
    assert layers[-1] == ("avg_pool2d", {"pool": 3, "stride": 1, "padding": "same"})


def test_max_pool_padding_of_signed_values_is_refused(tmp_path: Path) -> None:
    g = G()
    m = g.op("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    path = tmp_path / "m.onnx"
    onnx.save(g.model(m, ["N", 2, 8, 8]), str(path))
    with pytest.raises(ImportFailed, match="MaxPool with padding"):
        import_model(path)


def test_merges_depthwise_grouped_transpose_and_resize(tmp_path: Path) -> None:
    g = G()
    a = conv(g, "x", 4, 4, group=4, pads=[1, 1, 1, 1])  # depthwise
    b = conv(g, "x", 4, 8, k=1, group=2)  # grouped
    b2 = conv(g, b, 8, 4, k=1)
    s = g.op("Sub", [g.op("Mul", [g.op("Add", [a, b2]), a]), b2])
    cat = g.op("Concat", [s, a], axis=1)
    t = g.op(
        "ConvTranspose",
        [cat, g.const(weight(8, 3, 3, 3))],
        kernel_shape=[3, 3],
        strides=[2, 2],
        pads=[1, 1, 1, 1],
        output_padding=[1, 1],
    )
    up = g.op(
        "Resize",
        [t, "", g.const(np.asarray([1, 1, 2, 2], np.float32))],
        mode="nearest",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )
    bil = g.op(
        "Resize",
        [up, "", g.const(np.asarray([1, 1, 2, 2], np.float32))],
        mode="linear",
        coordinate_transformation_mode="pytorch_half_pixel",
    )
    layers, _ = imported(g.model(bil, ["N", 4, 5, 5]), tmp_path, [2, 4, 5, 5])
    assert types(layers) == [
        "depthwise_conv2d",
        "conv2d",
        "conv2d",
        "add",
        "multiply",
        "subtract",
        "concat",
        "conv2d_transpose",
        "cropping2d",
        "upsample2d",
        "upsample2d",
    ]
    assert layers[1][1]["groups"] == 2 and layers[-1][1]["interpolation"] == "bilinear"


def test_channel_shuffle_transposes_and_reshapes(tmp_path: Path) -> None:
    """ShuffleNet's (N, C, H, W) -> (N, g, C/g, H, W) -> swap -> (N, C, H, W)."""
    g = G()
    c = conv(g, "x", 2, 6, k=1)
    r = g.op("Reshape", [c, g.const(np.asarray([0, 2, 3, 4, 4], np.int64))])
    t = g.op("Transpose", [r], perm=[0, 2, 1, 3, 4])
    r2 = g.op("Reshape", [t, g.const(np.asarray([0, 6, 4, 4], np.int64))])
    layers, _ = imported(g.model(conv(g, r2, 6, 2, k=1), ["N", 2, 4, 4]), tmp_path, [2, 2, 4, 4])
    assert types(layers)[0] == "conv2d" and types(layers)[-1] == "conv2d"


def test_unsupported_operators_are_listed_once_each(tmp_path: Path) -> None:
    g = G()
    a = g.op("Cos", ["x"], "first_cos")
    b = g.op("Cos", [a], "second_cos")
    c = g.op("Sin", [g.op("Relu", [b])], "the_sin")
    path = tmp_path / "m.onnx"
    onnx.save(g.model(c, ["N", 3]), str(path))
    result = CliRunner().invoke(app, ["import", str(path)])
    assert result.exit_code == 1
    assert "Cos (2, first: /first_cos/Cos); Sin (1, first: /the_sin/Sin)" in result.output
    assert "Relu" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_cli_writes_spec_and_weights_and_never_overwrites(tmp_path: Path) -> None:
    g = G()
    path = tmp_path / "Small.Net.onnx"
    onnx.save(g.model(conv(g, "x", 3, 4, name="conv"), ["N", 3, 8, 8]), str(path))
    runner = CliRunner()
    first = runner.invoke(app, ["import", str(path), "-o", str(tmp_path / "s.yaml")])
    assert first.exit_code == 0, first.output
    text = (tmp_path / "s.yaml").read_text()
    assert text.startswith("# Imported from Small.Net.onnx")
    assert "name: Small_Net" in text
    weights = np.load(tmp_path / "s.npz")
    assert sorted(weights.files) == ["conv.bias", "conv.kernel"]
    assert weights["conv.kernel"].shape == (3, 3, 3, 4)
    again = runner.invoke(app, ["import", str(path), "-o", str(tmp_path / "s.yaml")])
    assert again.exit_code == 2 and "already exists" in again.output
    forced = runner.invoke(
        app,
        [
            "import",
            str(path),
            "-o",
            str(tmp_path / "s.yaml"),
            "--weights-out",
            str(tmp_path / "w.npz"),
            "--name",
            "net",
            "--force",
        ],
    )
    assert forced.exit_code == 0 and "name: net" in (tmp_path / "s.yaml").read_text()
    onto_model = runner.invoke(app, ["import", str(path), "-o", str(path), "--force"])
    assert onto_model.exit_code == 2
    run = runner.invoke(
        app, ["run", str(tmp_path / "s.yaml"), "--weights", str(tmp_path / "w.npz")]
    )
    assert run.exit_code == 0, run.output


def test_a_file_that_is_not_onnx_is_a_usage_error(tmp_path: Path) -> None:
    spec = tmp_path / "m.yaml"
    spec.write_text("specc: 1\n")
    result = CliRunner().invoke(app, ["import", str(spec)])
    assert result.exit_code == 2 and "ONNX" in result.output
    assert spec.read_text() == "specc: 1\n"


def test_missing_onnx_package_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    path = tmp_path / "m.onnx"
    path.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportFailed, match=r"pip install 'specc\[onnx\]'"):
        import_model(path)


def test_pytorch_style_norms_scales_and_hard_activations(tmp_path: Path) -> None:
    """ConvNeXt's channels-last LayerNormalization between Transposes, its layer scale (a Mul
    by (C, 1, 1)), (x - mean) / std preprocessing by per-channel constants, x * 2 + 1, and
    MobileNetV3's HardSigmoid and HardSwish."""
    g = G()
    x = g.op("Conv", ["x", g.const(weight(3, 3, 1, 1))], kernel_shape=[1, 1])
    x = g.op(
        "Div",
        [
            g.op("Sub", [x, g.const(weight(1, 3, 1, 1))]),
            g.const(np.abs(weight(1, 3, 1, 1)) + 0.5),
        ],
    )
    x = g.op("Add", [g.op("Mul", [x, g.const(np.float32(2.0))]), g.const(np.float32(1.0))])
    x = g.op("Transpose", [x], perm=[0, 2, 3, 1])
    x = g.op(
        "LayerNormalization", [x, g.const(weight(3)), g.const(weight(3))], axis=-1, epsilon=1e-6
    )
    x = g.op("Transpose", [x], perm=[0, 3, 1, 2])
    x = g.op("Mul", [x, g.const(weight(3, 1, 1))])
    x = g.op("HardSwish", [g.op("HardSigmoid", [x], alpha=1 / 6, beta=0.5)])
    layers, _ = imported(g.model(x, ["N", 3, 5, 6]), tmp_path, [2, 3, 5, 6])
    assert types(layers) == [
        "conv2d", "normalization", "rescaling", "layer_norm", "scale", "hard_sigmoid", "hard_swish"
    ]  # fmt: skip
    assert layers[2][1] == {"scale": 2.0, "offset": 1.0}


def test_keras_hard_sigmoid_is_refused(tmp_path: Path) -> None:
    g = G()
    model = g.model(g.op("HardSigmoid", ["x"], alpha=0.2, beta=0.5), ["N", 4])
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    with pytest.raises(ImportFailed, match=r"HardSigmoid with alpha 0\.2"):
        import_model(path)
