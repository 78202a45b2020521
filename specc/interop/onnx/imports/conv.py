"""ONNX import of convolutions: Conv (full, grouped, depthwise) and ConvTranspose."""

from __future__ import annotations

from typing import Any

from specc.interop.onnx.imports.common import compact, ints, pairs_of, window_padding
from specc.interop.onnx.imports.site import Site, WeightLayout, imports
from specc.ops.window import effective


def _weights(site: Site) -> dict[str, tuple[Any, WeightLayout]]:
    w = site.const(1)
    if w is None:
        raise site.unsupported("with weights computed by the graph")
    out: dict[str, tuple[Any, WeightLayout]] = {"kernel": (w, "torch")}
    bias = site.const(2)
    if site.has(2):
        if bias is None:
            raise site.unsupported("with a bias computed by the graph")
        out["bias"] = (bias.reshape(-1), "keras")
    return out


@imports("Conv")
def _conv(site: Site) -> None:
    x = site.first(0)
    weights = _weights(site)
    w = weights["kernel"][0]
    n = w.ndim - 2
    if n not in (1, 2, 3):
        raise site.unsupported(f"over {n} spatial axes")
    kernel = tuple(int(k) for k in w.shape[2:])
    strides, dilations = ints(site, "strides", n, 1), ints(site, "dilations", n, 1)
    attrs: dict[str, object] = {}
    padding = window_padding(site, x.shape[:-1], kernel, strides, dilations)
    group, filters, channels = int(site.attr("group", 1)), int(w.shape[0]), x.shape[-1]
    common = {
        "kernel": compact(kernel),
        "stride": compact(strides),
        "padding": padding,
        "dilation": compact(dilations),
        "bias": "bias" in weights,
    }
    if group > 1 and group == channels and n == 2 and filters % group == 0:
        attrs = {**common, "multiplier": filters // group}
        site.out(site.emit("depthwise_conv2d", [x], attrs, weights=weights))
        return
    attrs = {"filters": filters, **common, "groups": group}
    site.out(site.emit(f"conv{n}d", [x], attrs, weights=weights))


@imports("ConvTranspose")
def _conv_transpose(site: Site) -> None:
    """Keras's `valid` length is n*s + max(K - s, 0) (K = d*(k-1) + 1, the dilated extent)
    and ONNX's s*(n-1) + K + output_padding - pads: the difference is cropped after a `valid`
    layer (or is Keras's `same` crop)."""
    x = site.first(0)
    weights = _weights(site)
    w = weights["kernel"][0]
    n = w.ndim - 2
    if n not in (1, 2, 3) or int(site.attr("group", 1)) != 1:
        raise site.unsupported("other than 1-, 2- or 3-D and ungrouped")
    if site.attr("output_shape") or site.attr("auto_pad", "NOTSET") != "NOTSET":
        raise site.unsupported("with output_shape or auto_pad")
    kernel = tuple(int(k) for k in w.shape[2:])
    strides, dilations = ints(site, "strides", n, 1), ints(site, "dilations", n, 1)
    extents = [effective(k, d) for k, d in zip(kernel, dilations, strict=True)]
    extra = ints(site, "output_padding", n, 0)
    crops = []
    for (before, after), k, s, op in zip(
        pairs_of(site.attr("pads"), n), extents, strides, extra, strict=True
    ):
        crops.append((before, after + max(s - k, 0) - op))
    if any(a < 0 or b < 0 for a, b in crops):
        raise site.unsupported("whose output_padding reaches past Keras's output")
    same = tuple(
        (max(k - s, 0) // 2, max(k - s, 0) - max(k - s, 0) // 2)
        for k, s in zip(extents, strides, strict=True)
    )
    padding = "valid"
    if any(c != (0, 0) for c in crops) and tuple(crops) == same:
        padding, crops = "same", [(0, 0)] * n
    attrs = {
        "filters": int(w.shape[1]),
        "kernel": compact(kernel),
        "stride": compact(strides),
        "padding": padding,
        "dilation": compact(dilations),
        "bias": "bias" in weights,
    }
    y = site.emit(f"conv{n}d_transpose", [x], attrs, weights=weights)
    if any(c != (0, 0) for c in crops):
        y = site.emit(f"cropping{n}d", [y], {"cropping": tuple(crops)}, hint="crop")
    site.out(y)


@imports("specc.SeparableConv")
def _separable(site: Site) -> None:
    """A depthwise Conv without bias read only by a 1x1 Conv (specc's export of separable
    convolutions): the pair computes exactly one separable layer."""
    x = site.first(0)
    depthwise, pointwise = site.const(1), site.const(2)
    assert depthwise is not None and pointwise is not None
    n = depthwise.ndim - 2
    kernel = tuple(int(k) for k in depthwise.shape[2:])
    strides, dilations = ints(site, "strides", n, 1), ints(site, "dilations", n, 1)
    padding = window_padding(site, x.shape[:-1], kernel, strides, dilations)
    weights: dict[str, tuple[Any, WeightLayout]] = {
        "depthwise_kernel": (depthwise, "torch"),
        "pointwise_kernel": (pointwise, "torch"),
    }
    bias = site.const(3)
    if bias is not None:
        weights["bias"] = (bias.reshape(-1), "keras")
    attrs = {
        "filters": int(pointwise.shape[0]),
        "kernel": compact(kernel),
        "stride": compact(strides),
        "padding": padding,
        "dilation": compact(dilations),
        "depth_multiplier": int(depthwise.shape[0]) // int(site.attr("group")),
        "bias": bias is not None,
    }
    site.out(site.emit(f"separable_conv{n}d", [x], attrs, weights=weights))
