"""Window geometry: strides that skip input, padding that drops it, uneven `same` padding,
and convolutions that are dense layers in disguise."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from specc.diagnostics import Severity
from specc.dims import format_count, format_dim, product
from specc.ir import format_shape
from specc.lint.registry import Context, Finding, rule
from specc.lint.words import axes_label, group_axes, is_are, size_label, units
from specc.ops.common import Pads
from specc.ops.conv import ConvND, ConvTransposeND, SeparableConvND, WindowOp
from specc.ops.pool import Pool
from specc.ops.window import effective, same_pads
from specc.passes.shapes import LayerShapes

WARNING, INFO = Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class Window:
    """A layer that slides a window, with its per-axis attributes normalised once."""

    info: LayerShapes
    op: WindowOp
    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    pads: Pads


def _windows(ctx: Context) -> list[Window]:
    """Layers that slide a window over their input (a transposed convolution paints instead)."""
    return ctx.memo("windows", lambda: list(_find_windows(ctx)))


def _find_windows(ctx: Context) -> Iterator[Window]:
    for info in ctx.applied():
        op = info.layer.op
        if isinstance(op, WindowOp) and not isinstance(op, ConvTransposeND):
            yield Window(info, op, op.kernel_size, op.strides, op.dilations, op.pads)


def _what(op: WindowOp) -> str:
    return "pool window" if isinstance(op, Pool) else "kernel"


def _single_window(w: Window, axis: int) -> bool:
    """Whether an undilated window stands in one place on `axis`, so that its stride never
    comes into play: with explicit padding, what it leaves unread is W102's trailing input;
    with `same` padding (n <= stride), it must cover all n inputs, which a k >= n window does."""
    if w.dilations[axis] != 1 or w.info.output.spatial[axis] != 1:
        return False
    n = w.info.inputs[0].spatial[axis]
    return w.pads != "same" or (isinstance(n, int) and w.kernel[axis] >= n)


def _unread_of_every_stride(kernel: int, stride: int, dilation: int) -> int:
    """How many of every `stride` input positions no tap ever reads."""
    # Taps land on the multiples of gcd(dilation, stride) modulo stride, one new residue per
    # tap until all stride // gcd are covered: count them without walking a huge kernel.
    return stride - min(kernel, stride // math.gcd(dilation, stride))


@rule(
    "W101",
    "stride-skips-input",
    WARNING,
    summary="A convolution or pooling steps past its window, so some input is never read.",
    why=(
        "With stride s and a k-wide window (k < s), s - k of every s rows or columns fall "
        "between two windows and never reach the output: the layer throws away input it was "
        "given, as if the previous layer were larger than it needs to be. A dilated kernel can "
        "skip input in the same way even when it is wider than the stride. Use a window at "
        "least as wide as the stride, or pool before a strided 1x1 convolution (as ResNet-D "
        "does for its shortcut)."
    ),
    bad=(
        "specc: 1\nname: strided\ninputs: {image: [31, 31, 3]}\nlayers:\n"
        "  - {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 4}\n"
    ),
    good=(
        "specc: 1\nname: strided\ninputs: {image: [31, 31, 3]}\nlayers:\n"
        "  - {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 2}\n"
    ),
)
def stride_skips_input(ctx: Context) -> Iterator[Finding]:
    for w in _windows(ctx):
        info, op = w.info, w.op
        facts = [
            (k, s, d, u)
            if (u := _unread_of_every_stride(k, s, d)) and not _single_window(w, axis)
            else None
            for axis, (k, s, d) in enumerate(zip(w.kernel, w.strides, w.dilations, strict=True))
        ]
        for (k, s, d, u), axes in group_axes(facts):
            window = f"{k}-wide {_what(op)}" if d == 1 else f"{k}-wide {_what(op)} dilated by {d}"
            lead = f"stride {s} exceeds the {window}" if d == 1 else f"stride {s} with a {window}"
            message = (
                f"{lead} on {axes_label(axes)}; {u} of every {s} input "
                f"{units(op.spatial, axes)} {is_are(u)} never read"
            )
            yield Finding(message, info.layer, "stride")


@rule(
    "W102",
    "unread-trailing-input",
    WARNING,
    summary="Without `same` padding, the last rows or columns fit no window and are never read.",
    why=(
        "A window that steps by s over n inputs stops where the next step would run off the end: "
        "when (n + padding - window) is not a multiple of s, the remainder at the end is silently "
        "dropped (Keras and PyTorch floor the output size). The layer ignores part of its input; "
        "usually the input size or the stride is not what was meant. Use `padding: same`, change "
        "the stride, or resize the input so that the windows tile it."
    ),
    bad=(
        "specc: 1\nname: trailing\ninputs: {image: [28, 28, 1]}\nlayers:\n"
        "  - {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 2}\n"
    ),
    good=(
        "specc: 1\nname: trailing\ninputs: {image: [28, 28, 1]}\nlayers:\n"
        "  - {name: conv1, type: conv2d, filters: 8, kernel: 3, stride: 2, padding: same}\n"
    ),
)
def unread_trailing_input(ctx: Context) -> Iterator[Finding]:
    for w in _windows(ctx):
        info, op = w.info, w.op
        pads = w.pads
        if pads == "same":
            continue
        facts: list[tuple[int, int, int, int, int, int] | None] = []
        for axis, n in enumerate(info.inputs[0].spatial):
            before, after = pads[axis]
            eff = effective(w.kernel[axis], w.dilations[axis])
            stride = w.strides[axis]
            # One window: W101 is silent, and what it leaves unread is trailing input.
            skips = (
                0
                if _single_window(w, axis)
                else _unread_of_every_stride(w.kernel[axis], stride, w.dilations[axis])
            )
            if skips or not isinstance(n, int) or n + before + after < eff:  # W101 explains it
                facts.append(None)
                continue
            dropped = (n + before + after - eff) % stride - after
            facts.append((n, before, after, eff, stride, dropped) if dropped > 0 else None)
        attr = next((a for a in ("padding", "stride") if ctx.writes(info.layer, a)), op.window_attr)
        for (n, before, after, eff, stride, dropped), axes in group_axes(facts):
            padded = f"{n}" if before == after == 0 else f"{n} + {before} + {after}"
            how = "valid padding" if before == after == 0 else "this padding"
            message = (
                f"{how} leaves the last {dropped} of {n} input {units(op.spatial, axes)} unread on "
                f"{axes_label(axes)}: {padded} - {eff} = {n + before + after - eff} is not a "
                f"multiple of stride {stride}"
            )
            yield Finding(message, info.layer, attr)


@rule(
    "W103",
    "even-kernel-same-padding",
    WARNING,
    summary="An even-sized kernel or pool window with `same` padding pads one side more.",
    why=(
        "An even kernel has no centre tap, so `same` padding cannot be split evenly: TensorFlow "
        "and ONNX SAME_UPPER put the extra row after, SAME_LOWER before, and frameworks with "
        "symmetric integer padding cannot express it at all. The output is shifted by half a "
        "pixel and ports between frameworks silently disagree. Prefer odd kernels with `same` "
        "padding, or write the padding explicitly."
    ),
    bad=(
        "specc: 1\nname: even\ninputs: {image: [32, 32, 3]}\nlayers:\n"
        "  - {name: conv1, type: conv2d, filters: 8, kernel: 4, padding: same}\n"
    ),
    good=(
        "specc: 1\nname: even\ninputs: {image: [32, 32, 3]}\nlayers:\n"
        "  - {name: conv1, type: conv2d, filters: 8, kernel: 3, padding: same}\n"
    ),
)
def even_kernel_same_padding(ctx: Context) -> Iterator[Finding]:
    for w in _windows(ctx):
        info, op = w.info, w.op
        if w.pads != "same":
            continue
        facts: list[tuple[int, int, int, int] | None] = []
        for axis, n in enumerate(info.inputs[0].spatial):
            k, s, d = w.kernel[axis], w.strides[axis], w.dilations[axis]
            eff = effective(k, d)
            if eff % 2:
                facts.append(None)
            elif isinstance(n, int):
                before, after = same_pads(n, k, s, d)
                facts.append((k, eff, before, after) if before != after else None)
            else:  # with stride 1 the total padding is eff - 1 whatever the size: odd
                facts.append((k, eff, (eff - 1) // 2, eff // 2) if s == 1 else None)
        what = _what(op)
        for (k, eff, before, after), axes in group_axes(facts):
            window = f"{k}-wide {what}" if k == eff else f"{k}-wide {what} (dilated to {eff})"
            message = (
                f"the {window} has no centre, so same padding pads {axes_label(axes)} unevenly "
                f"({before} before, {after} after)"
            )
            yield Finding(message, info.layer, op.window_attr)


def _plain_conv(ctx: Context) -> Iterator[tuple[Window, ConvND]]:
    """Convolutions without groups (a dilation means nothing to a size-1 kernel axis)."""
    for w in _windows(ctx):
        if isinstance(w.op, ConvND) and w.op.groups == 1:
            yield w, w.op


@rule(
    "I101",
    "kernel-covers-input",
    INFO,
    summary="The kernel is as large as the whole input: the convolution is a dense layer.",
    why=(
        "A valid convolution whose kernel spans every spatial axis has one output position; each "
        "filter sees the whole input once, which is exactly a dense layer on the flattened input, "
        "with the same weights. Writing it as flatten + dense says what it does (VGG's "
        "fully connected layers written as convolutions are the well-known case)."
    ),
    bad=(
        "specc: 1\nname: head\ninputs: {features: [7, 7, 64]}\nlayers:\n"
        "  - {name: fc, type: conv2d, filters: 10, kernel: 7}\n"
    ),
    good=(
        "specc: 1\nname: head\ninputs: {features: [7, 7, 64]}\nlayers:\n"
        "  - {type: flatten}\n  - {name: fc, type: dense, units: 10}\n"
    ),
)
def kernel_covers_input(ctx: Context) -> Iterator[Finding]:
    for w, op in _plain_conv(ctx):
        info = w.info
        x = info.inputs[0]
        ks = w.kernel
        if set(ks) == {1} or set(w.dilations) != {1}:  # I102's case, or taps with gaps
            continue
        if w.pads != ((0, 0),) * op.spatial or tuple(x.spatial) != ks:
            continue
        flat = product(x.shape)
        flat_text = format_count(flat)
        message = (
            f"the {size_label(ks)} kernel covers the whole {format_shape(x.shape)} input; this is "
            f"a dense layer of {op.filters} units on the flattened input "
            f"({flat_text} -> {op.filters})"
        )
        yield Finding(message, info.layer, "kernel")


_POINT = {1: "step", 2: "pixel", 3: "voxel"}


@rule(
    "I102",
    "pointwise-conv",
    INFO,
    summary="A 1x1 convolution is a dense layer applied at every pixel.",
    why=(
        "A kernel of size 1 on every spatial axis mixes channels and nothing else: each output "
        "pixel is the same dense layer applied to that pixel's channels. That is often the intent "
        "(bottlenecks, projections, the second half of a separable convolution); this note is "
        "there so that the equivalence is never a surprise when counting parameters. A "
        "separable convolution with a size-1 kernel is one too: its depthwise step only scales "
        "each channel, which the pointwise kernel could do itself."
    ),
    bad=(
        "specc: 1\nname: pointwise\ninputs: {features: [32, 32, 64]}\nlayers:\n"
        "  - {name: proj, type: conv2d, filters: 16, kernel: 1}\n"
    ),
    good=(
        "specc: 1\nname: pointwise\ninputs: {features: [32, 32, 64]}\nlayers:\n"
        "  - {name: proj, type: conv2d, filters: 16, kernel: 3, padding: same}\n"
    ),
)
def pointwise_conv(ctx: Context) -> Iterator[Finding]:
    for w, op in _plain_conv(ctx):
        info = w.info
        if set(w.kernel) != {1}:
            continue
        label = "size-1" if op.spatial == 1 else size_label(w.kernel)
        message = (
            f"a {label} convolution is a dense layer applied at every {_POINT[op.spatial]}: "
            f"{info.inputs[0].channels} -> {op.filters} channels"
        )
        yield Finding(message, info.layer, "kernel")
    for w in _windows(ctx):
        if isinstance(w.op, SeparableConvND) and set(w.kernel) == {1}:
            yield _pointwise_separable(w, w.op)


def _pointwise_separable(w: Window, op: SeparableConvND) -> Finding:
    info = w.info
    c = info.inputs[0].channels
    label = "size-1" if op.spatial == 1 else size_label(w.kernel)
    extra = op.middle(info.inputs[0]) * (op.filters + 1) - c * op.filters
    message = (
        f"a {label} separable convolution is a dense layer applied at every "
        f"{_POINT[op.spatial]}: its depthwise step only scales each channel, so a {label} "
        f"convolution ({format_dim(c)} -> {op.filters} channels) computes the same with "
        f"{format_dim(extra)} fewer parameters"
    )
    return Finding(message, info.layer, "kernel")
