"""ONNX export of convolutions: Conv (grouped and depthwise) and ConvTranspose, channels-first."""

from __future__ import annotations

from typing import Any

from specc.interop.onnx.activation import activate
from specc.interop.onnx.graph import FIRST, Tensor
from specc.interop.onnx.site import EXPORTS, Site
from specc.ops.conv import Conv2DTranspose, ConvND, DepthwiseConv2D, WindowOp
from specc.ops.window import same_pads


def window_pads(op: WindowOp, x: Tensor) -> dict[str, Any]:
    """Conv/Pool padding attributes: explicit pads, TensorFlow's `same` resolved where the
    sizes are known, and SAME_UPPER (the same rule: the odd cell after) where they are not."""
    padding = op.pads
    if padding == "same":
        sizes = x.shape[:-1]
        if not all(isinstance(n, int) for n in sizes):
            return {"auto_pad": "SAME_UPPER"}
        padding = tuple(
            same_pads(n, k, s, d)  # type: ignore[arg-type]
            for n, k, s, d in zip(sizes, op.kernel_size, op.strides, op.dilations, strict=True)
        )
    return {"pads": [a for a, _ in padding] + [z for _, z in padding]}


def _conv_node(site: Site, op: WindowOp, group: int) -> Tensor:
    g = site.graph
    ins = [site.value(0, FIRST), site.weight("kernel", "torch")]
    if site.has("bias"):
        ins.append(site.weight("bias"))
    y = g.node(
        "Conv",
        ins,
        site.name,
        kernel_shape=list(op.kernel_size),
        strides=list(op.strides),
        dilations=list(op.dilations),
        group=group,
        **window_pads(op, site.inputs[0]),
    )
    return activate(site, site.out(y, FIRST), getattr(op, "activation", None))


@EXPORTS.register(ConvND)
def _conv(site: Site) -> Tensor:
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


@EXPORTS.register(Conv2DTranspose)
def _transpose(site: Site) -> Tensor:
    """Keras's lengths: `same` gives n*s, `valid` n*s + max(k - s, 0). ONNX's length is
    s*(n-1) + output_padding + k - pads, so `same` crops max(k-s, 0) (the odd one after) and a
    kernel shorter than its stride needs output_padding s - k."""
    op = site.op
    assert isinstance(op, Conv2DTranspose)
    before, after, extra = [], [], []
    for k, s in zip(op.kernel_size, op.strides, strict=True):
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
        pads=before + after,
        output_padding=extra if any(extra) else None,
    )
    return activate(site, site.out(y, FIRST), op.activation)
