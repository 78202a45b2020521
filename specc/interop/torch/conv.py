"""PyTorch export of convolutions: nn.Conv1d/2d/3d (grouped, depthwise, causal), separable
ones as a depthwise and a 1 x 1 convolution, and nn.ConvTranspose1d/2d/3d, with the spec's
padding."""

from __future__ import annotations

from dataclasses import dataclass

from specc.interop.pysource import call, window
from specc.interop.torch.activation import activate
from specc.interop.torch.site import FIRST, GENERATORS, Site, Value
from specc.ops.conv import ConvND, ConvTransposeND, DepthwiseConv2D, SeparableConvND, WindowOp
from specc.ops.window import effective, same_pads


@dataclass(frozen=True)
class Padded:
    """How a window layer gets its padding: the layer's `padding=` argument (None for none),
    or F.pad's pads (last axis first) where the layer cannot pad as the spec does."""

    argument: str | None
    pads: str | None = None
    fill: str = ""

    def apply(self, code: str) -> str:
        """`code` padded by F.pad where needed."""
        if self.pads is None:
            return code
        value = f", value={self.fill}" if self.fill else ""
        return f"F.pad({code}, {self.pads}{value})"


def window_padding(site: Site, op: WindowOp, *, same: bool = True, fill: str = "") -> Padded:
    """The spec's padding of `op` on input 0 (channels-first).

    PyTorch pads both sides of an axis alike. Padding that differs between the sides
    (TensorFlow's `same` with the odd cell after, or explicit pairs) is F.pad'ed first, sized
    at run time where the spec's size is symbolic. `same` is PyTorch's padding="same" when
    every stride is 1 and every axis pads alike (and the layer takes it: `same`). `fill` is
    F.pad's value (max pooling pads with -inf).
    """
    x = site.inputs[0]
    kernel, strides, dilations = op.kernel_size, op.strides, op.dilations
    odd = all(d * (k - 1) % 2 == 0 for k, d in zip(kernel, dilations, strict=True))
    if op.pads == "same" and same and set(strides) == {1} and odd:
        return Padded('"same"')
    pairs: list[tuple[int, int] | str] = []
    for i, (k, s, d) in enumerate(zip(kernel, strides, dilations, strict=True)):
        size = x.shape[i]
        if op.pads != "same":
            pairs.append(op.pads[i])
        elif isinstance(size, int):
            pairs.append(same_pads(size, k, s, d))
        elif s == 1:  # the total, d*(k-1), does not depend on the size
            pairs.append(same_pads(k, k, 1, d))
        else:
            args = f"{x.spatial_dim(i)}, {k}, {s}" + (f", {d}" if d != 1 else "")
            pairs.append(f"*{site.helper('same_pad')}({args})")
    if all(isinstance(p, tuple) and p[0] == p[1] for p in pairs):
        sizes = [p[0] for p in pairs if isinstance(p, tuple)]
        return Padded(None if set(sizes) == {0} else window(sizes))
    flat = [p if isinstance(p, str) else f"{p[0]}, {p[1]}" for p in reversed(pairs)]
    if flat == [p for p in flat if p.startswith("*")][:1]:
        flat.append("")  # a tuple of one starred item: (*same_pad(...),)
    return Padded(None, f"({', '.join(flat).rstrip()})", fill)


def conv_arguments(op: WindowOp, padding: str | None) -> dict[str, object]:
    """kernel_size, and stride, padding and dilation where they are not PyTorch's defaults."""
    kwargs: dict[str, object] = {"kernel_size": window(op.kernel_size)}
    if set(op.strides) != {1}:
        kwargs["stride"] = window(op.strides)
    if padding is not None:
        kwargs["padding"] = padding
    if set(op.dilations) != {1}:
        kwargs["dilation"] = window(op.dilations)
    return kwargs


def _conv(site: Site, op: WindowOp, out: int, groups: int, bias: bool, n: int) -> Value:
    padded = window_padding(site, op)
    kwargs = conv_arguments(op, padded.argument)
    if groups != 1:
        kwargs["groups"] = groups
    if not bias:
        kwargs["bias"] = "False"
    conv = site.module(call(f"nn.Conv{n}d", site.channels(), out, **kwargs))
    site.load("kernel", f"{conv}.weight")
    if bias:
        site.load("bias", f"{conv}.bias")
    y = site.assign(f"{conv}({padded.apply(site.input(0, FIRST))})", FIRST)
    return activate(site, y, getattr(op, "activation", None))


@GENERATORS.register(ConvND)
def _conv_nd(site: Site) -> Value:
    op = site.op
    assert isinstance(op, ConvND)
    return _conv(site, op, op.filters, op.groups, op.bias, op.spatial)


@GENERATORS.register(DepthwiseConv2D)
def _depthwise(site: Site) -> Value:
    """A convolution with one group per input channel: output c*m + j is filter j of
    channel c, the order of Keras's (k, k, C, m) kernel."""
    op = site.op
    assert isinstance(op, DepthwiseConv2D)
    c = site.channels()
    return _conv(site, op, c * op.multiplier, c, op.bias, op.spatial)


@GENERATORS.register(SeparableConvND)
def _separable(site: Site) -> Value:
    """The depthwise step (one group per input channel, no bias: output c*m + j is filter j
    of channel c, the order of Keras's (k..., C, m) kernel), then a 1 x 1 convolution with
    the bias and the activation."""
    op = site.op
    assert isinstance(op, SeparableConvND)
    c, n = site.channels(), op.spatial
    middle = c * op.depth_multiplier
    padded = window_padding(site, op)
    kwargs = conv_arguments(op, padded.argument)
    depthwise = site.module(
        call(f"nn.Conv{n}d", c, middle, **kwargs, groups=c, bias="False"), suffix="depthwise"
    )
    site.load("depthwise_kernel", f"{depthwise}.weight")
    bias = {} if op.bias else {"bias": "False"}
    pointwise = site.module(call(f"nn.Conv{n}d", middle, op.filters, 1, **bias), suffix="pointwise")
    site.load("pointwise_kernel", f"{pointwise}.weight")
    if op.bias:
        site.load("bias", f"{pointwise}.bias")
    mid = site.assign(f"{depthwise}({padded.apply(site.input(0, FIRST))})", FIRST)
    y = site.assign(f"{pointwise}({mid.code})", FIRST)
    return activate(site, y, op.activation)


@GENERATORS.register(ConvTransposeND)
def _transpose(site: Site) -> Value:
    """Keras's lengths: `same` gives n*s, `valid` n*s + max(k' - s, 0), k' = d*(k-1) + 1 the
    dilated extent. PyTorch's length is (n-1)*s + k' - 2*padding + output_padding: `same`
    crops max(k' - s, 0), the odd cell after (sliced off), and a kernel shorter than its
    stride needs output_padding s - k' (Keras takes a stride or a dilation, not both)."""
    op = site.op
    assert isinstance(op, ConvTransposeND)
    extents = [effective(k, d) for k, d in zip(op.kernel_size, op.dilations, strict=True)]
    pairs = list(zip(extents, op.strides, strict=True))
    crops = [max(k - s, 0) if op.padding == "same" else 0 for k, s in pairs]
    extra = [max(s - k, 0) for k, s in pairs]
    kwargs: dict[str, object] = {"kernel_size": window(op.kernel_size)}
    if set(op.strides) != {1}:
        kwargs["stride"] = window(op.strides)
    if any(crops):
        kwargs["padding"] = window([c // 2 for c in crops])
    if any(extra):
        kwargs["output_padding"] = window(extra)
    if set(op.dilations) != {1}:
        kwargs["dilation"] = window(op.dilations)
    if not op.bias:
        kwargs["bias"] = "False"
    function = f"nn.ConvTranspose{op.spatial}d"
    conv = site.module(call(function, site.channels(), op.filters, **kwargs))
    site.load("kernel", f"{conv}.weight")
    if op.bias:
        site.load("bias", f"{conv}.bias")
    y = f"{conv}({site.input(0, FIRST)})"
    if any(c % 2 for c in crops):
        index = [":", ":", *(":-1" if c % 2 else ":" for c in crops)]
        while index[-1] == ":":
            index.pop()
        y += f"[{', '.join(index)}]"
    return activate(site, site.assign(y, FIRST), op.activation)
