"""Keras convolutions: Conv1D/2D/3D, DepthwiseConv2D, SeparableConv1D/2D and the transposed
convolutions."""

from __future__ import annotations

from typing import Any

from specc.interop.keras.imports.site import (
    KerasLayer,
    Mapped,
    accepts,
    channels_last,
    kernel_layer,
    maps,
    optional,
    window,
)


def _spatial(layer: KerasLayer) -> int:
    return int(layer.cls.split("Conv")[1][0])  # Conv2D, SeparableConv1D, Conv3DTranspose


def _padding(layer: KerasLayer, type_: str, n: int) -> Any:
    """'valid' and 'same' as they are; 'causal' (Conv1D) as the spec's 'causal' where it has
    one, else as the explicit padding it is: dilation * (kernel - 1) zeros before."""
    padding = layer.get("padding", "valid")
    if padding not in ("valid", "same", "causal"):
        raise layer.unsupported(f"with padding {padding!r}")
    if padding != "causal":
        return padding
    if accepts(type_, "padding", "causal"):
        return "causal"
    k, d = window(layer, "kernel_size"), window(layer, "dilation_rate")
    assert isinstance(k, int) and isinstance(d, int)  # Conv1D: one axis
    return ((d * (k - 1), 0),)


def _common(layer: KerasLayer, type_: str) -> dict[str, Any]:
    channels_last(layer)
    n = _spatial(layer)
    return {
        "kernel": window(layer, "kernel_size"),
        "stride": window(layer, "strides"),
        "padding": _padding(layer, type_, n),
        "dilation": window(layer, "dilation_rate"),
    }


@maps("Conv1D", "Conv2D", "Conv3D")
def _conv(layer: KerasLayer) -> list[Mapped]:
    type_ = f"conv{_spatial(layer)}d"
    attrs = {"filters": int(layer.get("filters")), **_common(layer, type_)}
    attrs["groups"] = int(layer.get("groups", 1))
    return kernel_layer(layer, type_, attrs, ("kernel", "bias"))


@maps("DepthwiseConv2D")
def _depthwise(layer: KerasLayer) -> list[Mapped]:
    attrs = {**_common(layer, "depthwise_conv2d")}
    attrs["multiplier"] = int(layer.get("depth_multiplier", 1))
    return kernel_layer(layer, "depthwise_conv2d", attrs, ("kernel", "bias"))


@maps("SeparableConv1D", "SeparableConv2D")
def _separable(layer: KerasLayer) -> list[Mapped]:
    type_ = f"separable_conv{_spatial(layer)}d"
    attrs: dict[str, Any] = {"filters": int(layer.get("filters"))}
    out = kernel_layer(layer, type_, attrs, ("depthwise_kernel", "pointwise_kernel", "bias"))
    out[0].attrs.update(_common(layer, type_))
    out[0].attrs["depth_multiplier"] = int(layer.get("depth_multiplier", 1))
    return out


@maps("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
def _transpose(layer: KerasLayer) -> list[Mapped]:
    type_ = f"conv{_spatial(layer)}d_transpose"
    if layer.get("output_padding") is not None:
        raise layer.unsupported("with output_padding (the spec's lengths are Keras's defaults)")
    out = kernel_layer(layer, type_, {"filters": int(layer.get("filters"))}, ("kernel", "bias"))
    common = _common(layer, type_)
    if common["padding"] not in ("valid", "same"):
        raise layer.unsupported(f"with padding {common['padding']!r}")
    dilation = common.pop("dilation")
    out[0].attrs.update(common)
    out[0].attrs.update(optional(type_, "dilation", dilation, 1, layer))
    return out
