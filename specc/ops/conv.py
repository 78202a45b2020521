"""Convolutions: conv1d/2d/3d (grouped, dilated; conv1d also causal), depthwise_conv2d,
separable_conv1d/2d and conv1d/2d/3d_transpose."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from specc.dims import Dim, exact_div, format_dim, is_symbolic, product
from specc.ir import TensorType
from specc.ops.activation import ACTIVATION
from specc.ops.base import (
    AxisStep,
    Footprint,
    KernelOp,
    Op,
    Param,
    Problem,
    attr,
    expect_rank,
    kernel_param,
    with_bias,
)
from specc.ops.common import (
    BOOL,
    CAUSAL_PADDING,
    DILATION,
    KERNEL,
    MODE_PADDING,
    PADDING,
    POSITIVE_INT,
    STRIDE,
    PaddingValue,
    Pads,
    Window,
    pads,
    per_axis,
)
from specc.ops.window import effective, window_shape

AXES = {1: "steps, channels", 2: "height, width, channels", 3: "depth, height, width, channels"}


class WindowOp(Op):
    """An op that slides a window over `spatial` axes; normalises its per-axis attributes."""

    spatial: ClassVar[int] = 2

    def _check_input(self, x: TensorType) -> None:
        expect_rank(self, x, self.spatial + 1, AXES[self.spatial])

    def _axes(self, value: Window, name: str) -> tuple[int, ...]:
        return per_axis(value, self.spatial, name)

    # Per-axis views of the window attributes; ops name the window `kernel` or `pool`, and an
    # op without `stride`, `dilation` or `padding` gets the window, 1 and valid.
    window_attr: ClassVar[str] = "kernel"

    @property
    def kernel_size(self) -> tuple[int, ...]:
        return self._axes(getattr(self, self.window_attr), self.window_attr)

    @property
    def strides(self) -> tuple[int, ...]:
        stride = getattr(self, "stride", None)
        return self.kernel_size if stride is None else self._axes(stride, "stride")

    @property
    def dilations(self) -> tuple[int, ...]:
        return self._axes(getattr(self, "dilation", 1), "dilation")

    @property
    def pads(self) -> Pads:
        padding = getattr(self, "padding", "valid")
        if padding == "causal":
            return self._causal_pads()
        return pads(padding, self.spatial)

    # Whether `padding: causal` is allowed (Keras: conv1d only).
    causal: ClassVar[bool] = False

    def _causal_pads(self) -> Pads:
        """Keras's causal padding: dilation*(kernel-1) zeros before the input, none after, so
        output t reads inputs up to t only; the output length is what 'valid' gives on the
        left-padded input, ceil(n/stride)."""
        if not self.causal:
            raise Problem(
                "S112", f"padding 'causal' is for conv1d only; {self.type} does not take it",
                "padding",
            )  # fmt: skip
        return tuple(
            (d * (k - 1), 0) for k, d in zip(self.kernel_size, self.dilations, strict=True)
        )

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        """Each output reads a dilated window; padding moves positions, not the window's span."""
        return tuple(
            AxisStep(k, s, d)
            for k, s, d in zip(self.kernel_size, self.strides, self.dilations, strict=True)
        )


class ConvND(WindowOp, KernelOp):
    """A full (optionally grouped) convolution: every filter spans all C_in/groups channels."""

    family = "conv"
    filters: int = attr(
        schema=POSITIVE_INT, doc="number of filters (output channels)", examples=(1, 2, 3, 4)
    )
    kernel: Window = attr(schema=KERNEL, doc="window size per spatial axis", examples=(1, 2, 3))
    stride: Window = attr(default=1, schema=STRIDE, doc="step per spatial axis")
    padding: PaddingValue = attr(default="valid", schema=PADDING, doc="'valid', 'same' or explicit")
    dilation: Window = attr(default=1, schema=DILATION, doc="spacing between kernel taps")
    groups: int = attr(default=1, schema=POSITIVE_INT, doc="split channels into independent groups")
    bias: bool = attr(default=True, schema=BOOL, doc="add a learned bias per filter")
    activation: str | None = attr(
        default=None, schema=ACTIVATION, doc="activation applied to the output"
    )

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        self._check_input(x)
        self._check_groups(x.channels)
        out = window_shape(x.spatial, self.kernel_size, self.strides, self.dilations, self.pads)
        return TensorType((*out, self.filters))

    def zero_padding(self) -> bool:
        return True

    def _check_groups(self, channels: Dim) -> None:
        g = self.groups
        if g == 1:
            return
        if exact_div(channels, g) is None:
            raise Problem(
                "S103",
                f"groups={g} does not divide the {format_dim(channels)} input channels",
                "groups",
            )
        if self.filters % g:
            raise Problem("S103", f"groups={g} does not divide filters={self.filters}", "groups")

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        per_group = exact_div(inputs[0].channels, self.groups)
        assert per_group is not None
        k, r = self.kernel_size, self.spatial
        kernel = kernel_param(
            (*k, per_group, self.filters),
            fan_in=product(k) * per_group,
            torch_perm=(r + 1, r, *range(r)),
            out_axes=(r + 1,),
        )
        return with_bias(kernel, self.filters, self.bias)

    def macs(self, inputs: Sequence[TensorType], output: TensorType) -> Dim:
        """Every output element is a dot product over k... taps of C_in/groups channels."""
        per_group = exact_div(inputs[0].channels, self.groups)
        assert per_group is not None
        return product(output.shape) * product(self.kernel_size) * per_group


class Conv1D(ConvND):
    type = "conv1d"
    spatial = 1
    summary = "1-D convolution over (steps, channels)"
    causal = True
    padding: PaddingValue = attr(
        default="valid",
        schema=CAUSAL_PADDING,
        doc="'valid', 'same', 'causal' (dilation*(kernel-1) zeros before: output t sees inputs "
        "up to t) or explicit",
    )


class Conv2D(ConvND):
    type = "conv2d"
    spatial = 2
    summary = "2-D convolution over (height, width, channels)"


class Conv3D(ConvND):
    type = "conv3d"
    spatial = 3
    summary = "3-D convolution over (depth, height, width, channels)"


class DepthwiseConv2D(WindowOp, KernelOp):
    """Each input channel convolved with its own `multiplier` filters (per-channel convolution)."""

    type = "depthwise_conv2d"
    family = "conv"
    summary = "per-channel 2-D convolution: channel c gives outputs c*multiplier ... c*multiplier+m"
    kernel: Window = attr(schema=KERNEL, doc="window size per spatial axis", examples=(1, 2, 3))
    stride: Window = attr(default=1, schema=STRIDE, doc="step per spatial axis")
    padding: PaddingValue = attr(default="valid", schema=PADDING, doc="'valid', 'same' or explicit")
    dilation: Window = attr(default=1, schema=DILATION, doc="spacing between kernel taps")
    multiplier: int = attr(default=1, schema=POSITIVE_INT, doc="filters per input channel")
    bias: bool = attr(default=True, schema=BOOL, doc="add a learned bias per output channel")
    activation: str | None = attr(
        default=None, schema=ACTIVATION, doc="activation applied to the output"
    )

    def zero_padding(self) -> bool:
        return True

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        self._check_input(x)
        out = window_shape(x.spatial, self.kernel_size, self.strides, self.dilations, self.pads)
        return TensorType((*out, x.channels * self.multiplier))

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        c, m, k, r = inputs[0].channels, self.multiplier, self.kernel_size, self.spatial
        kernel = kernel_param(
            (*k, c, m),
            fan_in=product(k),
            torch_perm=(r, r + 1, *range(r)),
            torch_shape=(c * m, 1, *k),
            out_axes=(r, r + 1),
        )
        return with_bias(kernel, c * m, self.bias)

    def macs(self, inputs: Sequence[TensorType], output: TensorType) -> Dim:
        """Every output element reads the k... taps of its one input channel."""
        return product(output.shape) * product(self.kernel_size)


class SeparableConvND(WindowOp, KernelOp):
    """A depthwise convolution (each channel its own `depth_multiplier` filters), then a 1 x 1
    convolution mixing the C_in x depth_multiplier channels into `filters` (Keras's
    SeparableConv). The bias and activation come after the second step only."""

    family = "conv"
    filters: int = attr(
        schema=POSITIVE_INT, doc="number of filters (output channels)", examples=(1, 2, 3, 4)
    )
    kernel: Window = attr(schema=KERNEL, doc="window size per spatial axis", examples=(1, 2, 3))
    stride: Window = attr(default=1, schema=STRIDE, doc="step per spatial axis")
    padding: PaddingValue = attr(default="valid", schema=PADDING, doc="'valid', 'same' or explicit")
    dilation: Window = attr(default=1, schema=DILATION, doc="spacing between kernel taps")
    depth_multiplier: int = attr(
        default=1, schema=POSITIVE_INT, doc="depthwise filters per input channel", examples=(1, 2)
    )
    bias: bool = attr(default=True, schema=BOOL, doc="add a learned bias per filter")
    activation: str | None = attr(
        default=None, schema=ACTIVATION, doc="activation applied to the output"
    )

    def zero_padding(self) -> bool:
        return True

    def affine_target(self) -> str | None:
        """The pointwise kernel: its last axis is the output channels, the bias follows it."""
        return "pointwise_kernel" if self.output_activation() is None else None

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        self._check_input(x)
        out = window_shape(x.spatial, self.kernel_size, self.strides, self.dilations, self.pads)
        return TensorType((*out, self.filters))

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        c, m, k, r = inputs[0].channels, self.depth_multiplier, self.kernel_size, self.spatial
        depthwise = kernel_param(
            (*k, c, m),
            fan_in=product(k),
            torch_perm=(r, r + 1, *range(r)),
            torch_shape=(c * m, 1, *k),
            out_axes=(r, r + 1),
            name="depthwise_kernel",
        )
        pointwise = kernel_param(
            (*(1,) * r, c * m, self.filters),
            fan_in=c * m,
            torch_perm=(r + 1, r, *range(r)),
            out_axes=(r + 1,),
            name="pointwise_kernel",
        )
        return (depthwise, *with_bias(pointwise, self.filters, self.bias))

    def macs(self, inputs: Sequence[TensorType], output: TensorType) -> Dim:
        """The depthwise step (each of its out... x C_in*m outputs reads k... taps of one
        channel) plus the pointwise step (each of the out... x filters outputs reads the
        C_in*m channels): out... x C_in*m x (k... + filters)."""
        return (
            product(output.spatial)
            * self.middle(inputs[0])
            * (product(self.kernel_size) + self.filters)
        )

    def middle(self, x: TensorType) -> Dim:
        """The channels between the two steps: C_in x depth_multiplier."""
        return x.channels * self.depth_multiplier


class SeparableConv1D(SeparableConvND):
    type = "separable_conv1d"
    spatial = 1
    summary = "depthwise 1-D convolution, then a size-1 convolution mixing channels"


class SeparableConv2D(SeparableConvND):
    type = "separable_conv2d"
    spatial = 2
    summary = "depthwise 2-D convolution, then a 1 x 1 convolution mixing channels"


class ConvTransposeND(WindowOp, KernelOp):
    """The gradient of a strided convolution: upsamples by `stride` (Keras's output lengths)."""

    family = "conv"
    filters: int = attr(
        schema=POSITIVE_INT, doc="number of filters (output channels)", examples=(1, 2, 3, 4)
    )
    kernel: Window = attr(schema=KERNEL, doc="window size per spatial axis", examples=(1, 2, 3))
    stride: Window = attr(default=1, schema=STRIDE, doc="upsampling step per spatial axis")
    padding: str = attr(default="valid", schema=MODE_PADDING, doc="'valid' (full output) or 'same'")
    dilation: Window = attr(
        default=1, schema=DILATION, doc="spacing between kernel taps (only with stride 1)"
    )
    bias: bool = attr(default=True, schema=BOOL, doc="add a learned bias per filter")
    activation: str | None = attr(
        default=None, schema=ACTIVATION, doc="activation applied to the output"
    )

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        self._check_input(x)
        k, s, d = self.kernel_size, self.strides, self.dilations
        if max(s) > 1 and max(d) > 1:  # as Keras refuses it
            raise Problem(
                "S112",
                f"{self.type} takes a stride above 1 or a dilation above 1, not both "
                f"(stride {list(s)}, dilation {list(d)})",
                "dilation",
            )
        out = tuple(
            transpose_out(n, effective(k, d), s, self.padding)
            for n, k, s, d in zip(x.spatial, k, s, d, strict=True)
        )
        return TensorType((*out, self.filters))

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        c, k, r = inputs[0].channels, self.kernel_size, self.spatial
        # Each output sums over the input channels of the ceil(k/s) taps that reach it; the
        # seeded init takes every tap, as Keras's He-normal does for this layout.
        kernel = kernel_param(
            (*k, self.filters, c),
            fan_in=product(k) * c,
            torch_perm=(r + 1, r, *range(r)),
            out_axes=(r,),
        )
        return with_bias(kernel, self.filters, self.bias)

    def macs(self, inputs: Sequence[TensorType], output: TensorType) -> Dim:
        """Every input element is multiplied into a k... x filters patch (what 'same' crops
        away is still computed), the count ptflops and fvcore use."""
        return product(inputs[0].shape) * product(self.kernel_size) * self.filters

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        """`stride` outputs per input; one output reads at most ceil(k/stride) inputs, or (with
        stride 1) k inputs `dilation` apart."""
        return tuple(
            AxisStep(k, dilation=d, up=s)
            for k, s, d in zip(self.kernel_size, self.strides, self.dilations, strict=True)
        )


class Conv1DTranspose(ConvTransposeND):
    type = "conv1d_transpose"
    spatial = 1
    summary = "transposed 1-D convolution: each input step paints k outputs"


class Conv2DTranspose(ConvTransposeND):
    type = "conv2d_transpose"
    spatial = 2
    summary = "transposed 2-D convolution: each input pixel paints a k x k patch of the output"


class Conv3DTranspose(ConvTransposeND):
    type = "conv3d_transpose"
    spatial = 3
    summary = "transposed 3-D convolution: each input voxel paints a k x k x k patch"


def transpose_out(size: Dim, kernel: int, stride: int, padding: str) -> Dim:
    """Keras's deconv length: size*stride, plus max(kernel - stride, 0) for 'valid' (`kernel`
    is the dilated extent d*(k-1)+1)."""
    out = size * stride
    if padding == "valid":
        out = out + max(kernel - stride, 0)
    assert is_symbolic(out) or isinstance(out, int)
    return out
