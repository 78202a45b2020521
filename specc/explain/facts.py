"""What a layer's derivation starts from, the sections it gives, and the pieces every family
uses; the families' own derivations live in `specc/explain/ops/<family>.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from specc.dims import Dim, product
from specc.explain.formulas import axis_name, memory_line, n, window_axis
from specc.ir import FLOAT32_BYTES, Layer, TensorType, format_shape
from specc.ops.base import Op, Param
from specc.ops.conv import WindowOp
from specc.ops.parts import Parts
from specc.passes.costs import Field


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Facts:
    """What the derivation of one layer starts from."""

    layer: Layer
    op: Op
    inputs: tuple[TensorType, ...]
    output: TensorType
    params: tuple[Param, ...]
    macs: Dim
    field: Field


Sections = list[Section]
Derive = Callable[[Facts], Sections]
PER_SLICE = "Per slice: "

# Kernel, parameter, output and cost sections, by op class (found along its bases).
EXPLAINS = Parts[Derive]("explain", "specc.explain.ops")


def derive(f: Facts) -> Sections:
    """The sections of the layer's family, or the generic ones for an op without them."""
    return (EXPLAINS.find(type(f.op)) or other)(f)


def other(f: Facts) -> Sections:
    """An op without weights or a derivation of its own: its summary and its memory."""
    summary = type(f.op).summary or f.op.type
    return [Section(f"Output {f.output}", (f"{summary}",)), no_macs(f, "no weights to multiply")]


# -- pieces shared by the families --------------------------------------------------------------


def params_total(params: tuple[Param, ...]) -> Dim:
    total: Dim = 0
    for p in params:
        total = total + product(p.shape)
    return total


def param(f: Facts, name: str) -> Param | None:
    return next((p for p in f.params if p.name == name), None)


def kernel_title(f: Facts, layout: str) -> str:
    kernel = param(f, "kernel")
    assert kernel is not None
    torch = format_shape(kernel.layout_torch)
    return f"Kernel {format_shape(kernel.shape)}  layout {layout}; PyTorch stores {torch}"


def window_outputs(f: Facts, op: WindowOp, channels: str) -> Section:
    """Each spatial axis of a window op's output, with its formula, then the channels."""
    x = f.inputs[0]
    lines = [
        f"{axis_name(i, op.spatial)}: "
        + window_axis(size, op.kernel_size[i], op.strides[i], op.dilations[i], op.pads, i)
        for i, size in enumerate(x.spatial)
    ]
    return Section(f"Output {f.output}", (*lines, channels))


def cost(f: Facts, macs: str) -> Section:
    """MACs as `macs` (a formula the total completes), FLOPs and the output's memory."""
    mem = product(f.output.shape) * FLOAT32_BYTES
    return Section(
        "Cost",
        (
            f"MACs: {macs} = {n(f.macs)}",
            f"FLOPs: 2 x MACs = {n(f.macs * 2)}",
            f"activation memory: {memory_line(f.output.shape, mem)}",
        ),
    )


def no_macs(f: Facts, why: str) -> Section:
    mem = product(f.output.shape) * FLOAT32_BYTES
    return Section(
        "Cost",
        (
            f"MACs: 0 ({why}; only convolution, dense, recurrent and attention layers are counted)",
            f"activation memory: {memory_line(f.output.shape, mem)}",
        ),
    )


def formula(head: str, inner: str, total: Dim, bias: bool) -> str:
    """`16 x (7 x 7 x 8 + 1) = 6,288`, or without the + 1 when there is no bias."""
    body = f"({inner} + 1)" if bias else inner
    return f"{head} x {body} = {n(total)}"


def taps(kernel: tuple[int, ...]) -> str:
    return " x ".join(str(k) for k in kernel)


def plural(count: Dim, word: str) -> str:
    return f"{n(count)} {word}" + ("" if count == 1 else "s")


def alt(name: str, op: Op, x: TensorType, full_params: Dim, full_macs: Dim) -> list[str]:
    """One alternative layer on the same input: its kernel, output, parameters and MACs."""
    out = op.infer([x])
    params = op.params([x])
    kernel = next(p.shape for p in params if p.name == "kernel")
    count, macs = params_total(params), op.macs([x], out)
    return [
        f"{name}: kernel {format_shape(kernel)}, output {out}, "
        f"{n(count)} params{ratio(count, full_params)}, {n(macs)} MACs{ratio(macs, full_macs)}"
    ]


def ratio(part: Dim, whole: Dim) -> str:
    if not (isinstance(part, int) and isinstance(whole, int) and whole) or part == whole:
        return ""
    if part > whole:
        return f" ({part / whole:.1f}x this layer's)"
    return f" ({part / whole:.1%} of this layer's)"
