"""Keras export of convolutions: Conv1D/2D/3D, DepthwiseConv2D, SeparableConv1D/2D and
Conv1D/2D/3DTranspose, with explicit (and causal) padding as a ZeroPadding layer before them."""

from __future__ import annotations

from specc.interop.keras.activation import after, fused
from specc.interop.keras.site import GENERATORS, Site
from specc.interop.pysource import window
from specc.ops.conv import ConvND, ConvTransposeND, DepthwiseConv2D, SeparableConvND, WindowOp
from specc.ops.window import same_pads


def window_arguments(site: Site, op: WindowOp) -> dict[str, object]:
    """strides, padding and dilation_rate where they are not Keras's defaults; explicit padding
    is added as a ZeroPadding layer first. Keras's `same` is TensorFlow's, the spec's, but it
    refuses strides together with dilation: then it is padded explicitly, and the strides are
    left to `subsample`."""
    n, strides, dilations = op.spatial, op.strides, op.dilations
    kwargs: dict[str, object] = {}
    if set(strides) != {1} and not _strided_and_dilated(op):
        kwargs["strides"] = window(strides)
    if set(dilations) != {1}:
        kwargs["dilation_rate"] = window(dilations)
    padding = op.pads
    if padding == "same" and (set(strides) == {1} or set(dilations) == {1}):
        kwargs["padding"] = '"same"'
        return kwargs
    if padding == "same":
        sizes = site.inputs[0].spatial
        if not all(isinstance(s, int) for s in sizes):
            raise site.fail("with `same`, strides and dilation over a symbolic size is unsupported")
        padding = tuple(
            same_pads(s, k, st, d)  # type: ignore[arg-type]
            for s, k, st, d in zip(sizes, op.kernel_size, strides, dilations, strict=True)
        )
    if any(a or b for a, b in padding):
        pads: object = padding[0] if n == 1 else padding
        site.helper("pad", f"layers.ZeroPadding{n}D", pads)
    return kwargs


def _strided_and_dilated(op: WindowOp) -> bool:
    return set(op.strides) != {1} and set(op.dilations) != {1}


def subsample(site: Site, op: WindowOp) -> None:
    """Where Keras refuses strides with dilation, the layer runs at stride 1 and every s-th
    output is kept (a pooling of one cell): at positions 0, s, 2s ..., the strided outputs,
    ceil((n - d*(k-1)) / s) of them, as many."""
    if _strided_and_dilated(op):
        site.helper("stride", f"layers.MaxPooling{op.spatial}D", 1, strides=window(op.strides))


def _bias(bias: bool) -> dict[str, object]:
    return {} if bias else {"use_bias": "False"}


def _windowed(site: Site, op: WindowOp, layer: str, *args: object, **extra: object) -> None:
    """A Keras convolution layer with the op's window arguments, bias and activation (fused
    where Keras names it, a layer after it otherwise), subsampled where Keras cannot stride."""
    activation = op.output_activation()
    site.layer(
        layer, *args, **window_arguments(site, op), **extra,
        **_bias(op.bias), **fused(activation),  # type: ignore[attr-defined]
    )  # fmt: skip
    subsample(site, op)
    after(site, activation)


@GENERATORS.register(ConvND)
def _conv(site: Site) -> None:
    op = site.op
    assert isinstance(op, ConvND)
    groups = {"groups": op.groups} if op.groups != 1 else {}
    _windowed(site, op, f"layers.Conv{op.spatial}D", op.filters, window(op.kernel_size), **groups)


@GENERATORS.register(DepthwiseConv2D)
def _depthwise(site: Site) -> None:
    op = site.op
    assert isinstance(op, DepthwiseConv2D)
    mult = {"depth_multiplier": op.multiplier} if op.multiplier != 1 else {}
    _windowed(site, op, "layers.DepthwiseConv2D", window(op.kernel_size), **mult)


@GENERATORS.register(SeparableConvND)
def _separable(site: Site) -> None:
    """Keras keeps the weights as the spec: depthwise_kernel, pointwise_kernel, bias."""
    op = site.op
    assert isinstance(op, SeparableConvND)
    mult = {"depth_multiplier": op.depth_multiplier} if op.depth_multiplier != 1 else {}
    layer = f"layers.SeparableConv{op.spatial}D"
    _windowed(site, op, layer, op.filters, window(op.kernel_size), **mult)


@GENERATORS.register(ConvTransposeND)
def _transpose(site: Site) -> None:
    op = site.op
    assert isinstance(op, ConvTransposeND)
    kwargs: dict[str, object] = {}
    if set(op.strides) != {1}:
        kwargs["strides"] = window(op.strides)
    if op.padding == "same":
        kwargs["padding"] = '"same"'
    if set(op.dilations) != {1}:
        kwargs["dilation_rate"] = window(op.dilations)
    site.layer(
        f"layers.Conv{op.spatial}DTranspose", op.filters, window(op.kernel_size),
        **kwargs, **_bias(op.bias), **fused(op.activation),
    )  # fmt: skip
    after(site, op.activation)
