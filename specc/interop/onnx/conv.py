"""ONNX export of convolutions: Conv (grouped, depthwise, and a grouped Conv then a 1x1 Conv for
separable) and ConvTranspose, channels-first."""

from __future__ import annotations

from typing import Any

from specc.interop.onnx.activation import activate
from specc.interop.onnx.graph import FIRST, Tensor
from specc.interop.onnx.site import EXPORTS, Site
from specc.ops.conv import ConvND, ConvTransposeND, DepthwiseConv2D, SeparableConvND, WindowOp
from specc.ops.window import effective, same_pads


def window_pads(op: WindowOp, x: Tensor) -> dict[str, Any]:
    """Conv/Pool padding attributes: explicit pads, TensorFlow's `same` resolved where the
    sizes are known or the stride is 1 (then the total is the dilated extent - 1 whatever the
    size), and SAME_UPPER (the same rule: the odd cell after) where they are not."""
    padding = op.pads
    if padding == "same":
        sizes = x.shape[:-1]
        axes = zip(sizes, op.kernel_size, op.strides, op.dilations, strict=True)
        if not all(isinstance(n, int) or s == 1 for n, _, s, _ in axes):
            return {"auto_pad": "SAME_UPPER"}
        padding = tuple(
            same_pads(n if isinstance(n, int) else 1, k, s, d)
            for n, k, s, d in zip(sizes, op.kernel_size, op.strides, op.dilations, strict=True)
        )
    return {"pads": [a for a, _ in padding] + [z for _, z in padding]}


def _conv_node(site: Site, op: WindowOp, group: int) -> Tensor:
    y = _conv(site, op, site.value(0, FIRST), "kernel", group)
    return activate(site, site.out(y, FIRST), getattr(op, "activation", None))


def _conv(site: Site, op: WindowOp, x: str, kernel: str, group: int, bias: bool = True) -> str:
    """One Conv node over `x` (channels-first) with the parameter `kernel` and, if asked and
    the layer has one, its bias."""
    pads = window_pads(op, site.inputs[0])
    if "auto_pad" in pads and max(op.dilations) > 1:
        x, pads = _same_padded(site, op, x), {"pads": [0] * (2 * op.spatial)}
    ins = [x, site.weight(kernel, "torch")]
    if bias and site.has("bias"):
        ins.append(site.weight("bias"))
    return site.graph.node(
        "Conv",
        ins,
        site.name,
        kernel_shape=list(op.kernel_size),
        strides=list(op.strides),
        dilations=list(op.dilations),
        group=group,
        **pads,
    )


def _same_padded(site: Site, op: WindowOp, x: str) -> str:
    """`x` (channels-first) with TensorFlow's `same` zeros, computed from its runtime sizes:
    onnxruntime runs SAME_UPPER only without dilation. Per axis the total is
    max((ceil(n/s) - 1)*s + K - n, 0) = max(ceil(n/s)*s - n + K - s, 0), the odd one after."""
    g = site.graph

    def const(v: int) -> str:
        return g.ints([v], f"{site.name}/same")

    before, after = [], []
    for i, (k, s, d) in enumerate(zip(op.kernel_size, op.strides, op.dilations, strict=True)):
        n = g.node("Shape", [x], site.name, start=2 + i, end=3 + i)
        q = g.node("Div", [g.node("Add", [n, const(s - 1)], site.name), const(s)], site.name)
        over = g.node("Sub", [g.node("Mul", [q, const(s)], site.name), n], site.name)
        total = g.node(
            "Max", [g.node("Add", [over, const(effective(k, d) - s)], site.name), const(0)],
            site.name,
        )  # fmt: skip
        half = g.node("Div", [total, const(2)], site.name)
        before.append(half)
        after.append(g.node("Sub", [total, half], site.name))
    zeros = g.ints([0, 0], f"{site.name}/same")
    pads = g.node("Concat", [zeros, *before, zeros, *after], site.name, axis=0)
    return g.node("Pad", [x, pads], site.name, mode="constant")


@EXPORTS.register(ConvND)
def _full(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, ConvND)
    return _conv_node(site, op, op.groups)


@EXPORTS.register(DepthwiseConv2D)
def _depthwise(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, DepthwiseConv2D)
    channels = site.inputs[0].shape[-1]
    assert isinstance(channels, int)
    return _conv_node(site, op, channels)


@EXPORTS.register(SeparableConvND)
def _separable(site: Site) -> Tensor:
    """The depthwise Conv (group = C_in, no bias), then a 1x1 Conv with the bias."""
    op = site.op
    assert isinstance(op, SeparableConvND)
    channels = site.inputs[0].shape[-1]
    assert isinstance(channels, int)
    mid = _conv(site, op, site.value(0, FIRST), "depthwise_kernel", channels, bias=False)
    ones = [1] * op.spatial
    ins = [mid, site.weight("pointwise_kernel", "torch")]
    if site.has("bias"):
        ins.append(site.weight("bias"))
    y = site.graph.node("Conv", ins, site.name, kernel_shape=ones, strides=ones)
    return activate(site, site.out(y, FIRST), op.activation)


@EXPORTS.register(ConvTransposeND)
def _transpose(site: Site) -> Tensor:
    """Keras's lengths: `same` gives n*s, `valid` n*s + max(K - s, 0), K = d*(k-1) + 1 the
    dilated extent. ONNX's length is s*(n-1) + output_padding + K - pads, so `same` crops
    max(K-s, 0) (the odd one after) and a kernel shorter than its stride needs output_padding
    s - K."""
    op = site.op
    assert isinstance(op, ConvTransposeND)
    before, after, extra = [], [], []
    for k, s in zip(map(effective, op.kernel_size, op.dilations), op.strides, strict=True):
        crop = max(k - s, 0) if op.padding == "same" else 0
        before.append(crop // 2)
        after.append(crop - crop // 2)
        extra.append(max(s - k, 0))
    ins = [site.value(0, FIRST), site.weight("kernel", "torch")]
    if site.has("bias"):
        ins.append(site.weight("bias"))
    y = site.graph.node(
        "ConvTranspose",
        ins,
        site.name,
        kernel_shape=list(op.kernel_size),
        strides=list(op.strides),
        dilations=list(op.dilations),
        pads=before + after,
        output_padding=extra if any(extra) else None,
    )
    return activate(site, site.out(y, FIRST), op.activation)
