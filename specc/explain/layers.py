"""The derivation of one layer's numbers, by layer family: kernel, parameters, output axes,
cost, and the alternatives a reader may have had in mind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from specc.dims import Dim, exact_div, product
from specc.explain.formulas import (
    axis_name,
    memory_line,
    n,
    term,
    times,
    transpose_axis,
    window_axis,
)
from specc.ir import Layer, TensorType, format_shape
from specc.ops.base import Op, Param
from specc.ops.conv import Conv2D, Conv2DTranspose, ConvND, DepthwiseConv2D, WindowOp
from specc.ops.dense import Dense
from specc.ops.merge import Concat, ElementWise
from specc.ops.norm import BatchNorm
from specc.ops.pool import GlobalPool, Pool
from specc.ops.reshape import Flatten
from specc.ops.wrapper import TimeDistributed
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
PER_SLICE = "Per slice: "


def derive(f: Facts) -> Sections:
    """Kernel, parameter, output and cost sections for the layer's family."""
    for cls, fn in _FAMILIES:
        if isinstance(f.op, cls):
            return fn(f)
    return _other(f)


# -- shared pieces ----------------------------------------------------------------------------


def _params_total(params: tuple[Param, ...]) -> Dim:
    total: Dim = 0
    for p in params:
        total = total + product(p.shape)
    return total


def _param(f: Facts, name: str) -> Param | None:
    return next((p for p in f.params if p.name == name), None)


def _kernel_title(f: Facts, layout: str) -> str:
    kernel = _param(f, "kernel")
    assert kernel is not None
    torch = format_shape(kernel.layout_torch)
    return f"Kernel {format_shape(kernel.shape)}  layout {layout}; PyTorch stores {torch}"


def _window_outputs(f: Facts, op: WindowOp, channels: str) -> Section:
    x = f.inputs[0]
    lines = [
        f"{axis_name(i, op.spatial)}: "
        + window_axis(size, op.kernel_size[i], op.strides[i], op.dilations[i], op.pads, i)
        for i, size in enumerate(x.spatial)
    ]
    return Section(f"Output {f.output}", (*lines, channels))


def _cost(f: Facts, macs: str) -> Section:
    """MACs as `macs` (a formula the total completes), FLOPs and the output's memory."""
    mem = product(f.output.shape) * 4
    return Section(
        "Cost",
        (
            f"MACs: {macs} = {n(f.macs)}",
            f"FLOPs: 2 x MACs = {n(f.macs * 2)}",
            f"activation memory: {memory_line(f.output.shape, mem)}",
        ),
    )


def _no_macs(f: Facts, why: str) -> Section:
    mem = product(f.output.shape) * 4
    return Section(
        "Cost",
        (
            f"MACs: 0 ({why}; only convolutions and dense layers are counted)",
            f"activation memory: {memory_line(f.output.shape, mem)}",
        ),
    )


def _formula(head: str, inner: str, total: Dim, bias: bool) -> str:
    """`16 x (7 x 7 x 8 + 1) = 6,288`, or without the + 1 when there is no bias."""
    body = f"({inner} + 1)" if bias else inner
    return f"{head} x {body} = {n(total)}"


def _taps(kernel: tuple[int, ...]) -> str:
    return " x ".join(str(k) for k in kernel)


def _plural(count: Dim, word: str) -> str:
    return f"{n(count)} {word}" + ("" if count == 1 else "s")


def _alt(name: str, op: Op, x: TensorType, full_params: Dim, full_macs: Dim) -> list[str]:
    """One alternative layer on the same input: its kernel, output, parameters and MACs."""
    out = op.infer([x])
    params = op.params([x])
    kernel = next(p.shape for p in params if p.name == "kernel")
    count, macs = _params_total(params), op.macs([x], out)
    return [
        f"{name}: kernel {format_shape(kernel)}, output {out}, "
        f"{n(count)} params{_ratio(count, full_params)}, {n(macs)} MACs{_ratio(macs, full_macs)}"
    ]


def _ratio(part: Dim, whole: Dim) -> str:
    if not (isinstance(part, int) and isinstance(whole, int) and whole) or part == whole:
        return ""
    if part > whole:
        return f" ({part / whole:.1f}x this layer's)"
    return f" ({part / whole:.1%} of this layer's)"


# -- convolution ------------------------------------------------------------------------------


def _conv(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, ConvND)
    x = f.inputs[0]
    c, g, filters = x.channels, op.groups, op.filters
    per_group = exact_div(c, g)
    assert per_group is not None
    taps = _taps(op.kernel_size)
    if g == 1:
        depth = "the one input channel" if c == 1 else f"all {n(c)} input channels"
        what = (
            f"{filters} filters, each {taps} over {depth}: a filter always spans the full "
            f"depth of its input, so the kernel has one axis more than the window"
        )
    else:
        what = (
            f"{filters} filters in {g} groups of {filters // g}; each filter is {taps} over the "
            f"{n(per_group)} channels of its group ({n(c)} / {g})"
        )
    kernel = _param(f, "kernel")
    assert kernel is not None
    weights = f"kernel {times(kernel.shape)} = {n(product(kernel.shape))}"
    weights += f", bias {filters}" if op.bias else ", no bias"
    inner = f"{taps} x {term(per_group)}"
    sections = [
        Section(_kernel_title(f, "(k..., C_in/groups, filters)"), (what,)),
        Section(
            "Parameters", (_formula(str(filters), inner, _params_total(f.params), op.bias), weights)
        ),
        _window_outputs(f, op, f"channels: {filters} = filters"),
        _cost(f, f"{times(f.output.shape)} outputs x ({inner}) each"),
    ]
    if all(k == 1 for k in op.kernel_size) and g == 1:
        sections.append(_pointwise_is_dense(f, op))
    elif g == 1:
        sections.append(_per_channel(f, op))
    return sections


def _pointwise_is_dense(f: Facts, op: ConvND) -> Section:
    x = f.inputs[0]
    c = x.channels
    dense = Dense(units=op.filters, bias=op.bias)
    where = "every position" if all(s == 1 for s in op.strides) else "every stride-th position"
    ones = ", ".join("1" for _ in op.kernel_size)
    return Section(
        "A 1 x 1 convolution is a dense layer at each position",
        (
            f"it maps the {n(c)} channels of {where} to {op.filters} with one ({n(c)} -> "
            f"{op.filters}) weight matrix, shared by all positions",
            f"dense(units: {op.filters}) on {x} has kernel ({n(c)}, {op.filters}): this kernel "
            f"({ones}, {n(c)}, {op.filters}) without its unit axes",
            f"same parameters ({n(_params_total(dense.params([x])))}); "
            f"same MACs when the stride is 1 ({n(dense.macs([x], dense.infer([x])))})",
        ),
    )


def _per_channel(f: Facts, op: ConvND) -> Section:
    """What 'N filters of k x k' would be if each filter saw one channel, and the separable pair."""
    x = f.inputs[0]
    c, filters = x.channels, op.filters
    title = "Per-channel alternatives"
    if not isinstance(c, int) or c == 1:
        return Section(title, ("with one input channel, every filter already sees one channel",))
    taps = _taps(op.kernel_size)
    lines = []
    if filters % c == 0:
        mult = filters // c
        expected = ", ".join(str(k) for k in (*op.kernel_size, filters))
        lines.append(
            f"{filters} filters of {taps} that each see one channel ({taps} x {filters} = "
            f"{product(op.kernel_size) * filters:,} weights, the ({expected}) one might expect) "
            f"is a grouped convolution with groups = C_in:"
        )
        options: list[tuple[str, Op]] = [(f"{op.type} groups: {c}", op.replace(groups=c))]
        if op.spatial == 2:
            options.append((f"depthwise_conv2d multiplier: {mult}", _depthwise_like(op, mult)))
        for name, alt in options:
            lines += ["  " + line for line in _alt(name, alt, x, _params_total(f.params), f.macs)]
    lines.append(_separable(f, op, c))
    return Section(title, tuple(lines))


def _separable(f: Facts, op: ConvND, c: int) -> str:
    """Per-channel k x k (multiplier 1), then a 1 x 1 convolution to `filters` channels."""
    x = f.inputs[0]
    per: Op
    if op.spatial == 2:
        per, name = _depthwise_like(op, 1), "depthwise_conv2d"
    else:
        per, name = op.replace(filters=c, groups=c), f"{op.type} groups: {c}, filters: {c}"
    mix = op.replace(kernel=1, stride=1, padding="valid", dilation=1, groups=1)
    mid = per.infer([x])
    params = _params_total(per.params([x])) + _params_total(mix.params([mid]))
    macs = per.macs([x], mid) + mix.macs([mid], mix.infer([mid]))
    return (
        f"separable (per-channel {_taps(op.kernel_size)}, then a 1 x 1 {op.type} mixing "
        f"channels, as in MobileNet): {name} kernel {format_shape(per.params([x])[0].shape)} "
        f"+ 1 x 1 kernel {format_shape(mix.params([mid])[0].shape)}: {n(params)} params"
        f"{_ratio(params, _params_total(f.params))}, {n(macs)} MACs{_ratio(macs, f.macs)}"
    )


def _depthwise_like(op: ConvND, multiplier: int) -> DepthwiseConv2D:
    return DepthwiseConv2D(
        kernel=op.kernel, stride=op.stride, padding=op.padding, dilation=op.dilation,
        multiplier=multiplier, bias=op.bias,
    )  # fmt: skip


def _full_like(op: DepthwiseConv2D, filters: int) -> Conv2D:
    return Conv2D(
        filters=filters, kernel=op.kernel, stride=op.stride, padding=op.padding,
        dilation=op.dilation, bias=op.bias,
    )  # fmt: skip


def _depthwise(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, DepthwiseConv2D)
    x = f.inputs[0]
    c, m = x.channels, op.multiplier
    taps = _taps(op.kernel_size)
    sections = [
        Section(
            _kernel_title(f, "(k..., C_in, multiplier)"),
            (
                f"each of the {_plural(c, 'input channel')} has its own "
                f"{_plural(m, 'filter')} of {taps}; channels are never mixed (output channel "
                f"c x {m} + j comes from input channel c)",
            ),
        ),
        Section(
            "Parameters", (_formula(f"{term(c)} x {m}", taps, _params_total(f.params), op.bias),)
        ),
        _window_outputs(f, op, f"channels: {times((c, m))} = {n(c * m)} = C_in x multiplier"),
        _cost(f, f"{times(f.output.shape)} outputs x {taps} taps of one channel each"),
    ]
    if isinstance(c, int):
        full = _full_like(op, c * m)
        lines = _alt(f"conv2d filters: {c * m}", full, x, _params_total(f.params), f.macs)
        lines.append("follow it with a 1 x 1 conv2d to mix channels: a separable convolution")
        sections.append(Section("Compared with a full convolution", tuple(lines)))
    return sections


def _transpose(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, Conv2DTranspose)
    x = f.inputs[0]
    c, filters = x.channels, op.filters
    taps = _taps(op.kernel_size)
    formula = _formula(str(filters), f"{taps} x {term(c)}", _params_total(f.params), op.bias)
    axes = [
        f"{axis_name(i, 2)}: "
        + transpose_axis(size, op.kernel_size[i], op.strides[i], op.padding, f.output.shape[i])
        for i, size in enumerate(x.spatial)
    ]
    what = (
        f"{filters} filters of {taps} over {_plural(c, 'input channel')}; every input value "
        f"is multiplied into a {taps} x {filters} patch of the output, patches "
        f"{_taps(op.strides)} apart"
    )
    return [
        Section(_kernel_title(f, "(k..., filters, C_in)"), (what,)),
        Section("Parameters", (formula,)),
        Section(f"Output {f.output}", (*axes, f"channels: {filters} = filters")),
        _cost(f, f"{times(x.shape)} inputs x ({taps} x {filters}) each"),
    ]


# -- dense, pooling, normalisation, merges ----------------------------------------------------


def _dense(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, Dense)
    x = f.inputs[0]
    c, units = x.channels, op.units
    lines = [f"{units} units, each a weighted sum of all {n(c)} values of the last axis"]
    if x.rank > 1:
        lines.append(
            f"applied alike at each of the {times(x.shape[:-1])} positions: a 1 x 1 convolution "
            f"with kernel ({', '.join('1' for _ in x.spatial)}, {n(c)}, {units})"
        )
    return [
        Section(_kernel_title(f, "(C_in, units)"), tuple(lines)),
        Section("Parameters", (_formula(str(units), term(c), _params_total(f.params), op.bias),)),
        Section(f"Output {f.output}", (f"the last axis {n(c)} becomes {units} = units",)),
        _cost(f, f"{times(f.output.shape)} outputs x {term(c)} each"),
    ]


def _pool(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, Pool)
    what = "the maximum" if op.kind == "max" else "the average"
    return [
        Section("Window", (f"{what} over each {_taps(op.kernel_size)} window of each channel",)),
        _window_outputs(f, op, f"channels: {n(f.inputs[0].channels)}, unchanged"),
        _no_macs(f, "comparisons and sums are not multiply-adds"),
    ]


def _global_pool(f: Facts) -> Sections:
    x = f.inputs[0]
    return [
        Section(f"Output {f.output}", (f"every spatial axis of {x} is reduced to one value",)),
        _no_macs(f, "a reduction, not a multiply-add"),
    ]


def _batch_norm(f: Facts) -> Sections:
    c = f.inputs[0].channels
    count = len(f.params)
    trainable = ", ".join(p.name for p in f.params if p.trainable) or "none"
    frozen = ", ".join(p.name for p in f.params if not p.trainable)
    return [
        Section(
            "Parameters",
            (
                f"{count} vectors of one value per channel: {count} x {n(c)} = "
                f"{n(_params_total(f.params))}",
                f"trainable: {trainable}; not trainable: {frozen} (running statistics, "
                "updated by averaging rather than by gradients)",
            ),
        ),
        Section(f"Output {f.output}", ("the input's shape",)),
        _no_macs(f, "at inference it folds into the preceding convolution's weights"),
    ]


def _merge(f: Facts) -> Sections:
    op = f.op
    shapes = ", ".join(str(x) for x in f.inputs)
    if isinstance(op, Concat):
        axis = op.axis % f.output.rank
        parts = " + ".join(term(x.shape[axis]) for x in f.inputs)
        lines = (f"axis {axis}: {parts} = {n(f.output.shape[axis])}; other axes are shared",)
    else:
        lines = (f"inputs {shapes} are combined element by element",)
    return [Section(f"Output {f.output}", lines), _no_macs(f, "element-wise and copying work")]


def _flatten(f: Facts) -> Sections:
    x = f.inputs[0]
    return [
        Section(
            f"Output {f.output}", (f"{times(x.shape)} = {n(product(x.shape))} values in one axis",)
        ),
        _no_macs(f, "values are only moved"),
    ]


def _time_distributed(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, TimeDistributed)
    x = f.inputs[0]
    inner = replace(
        f,
        op=op.layer,
        inputs=(TensorType(x.shape[1:]),),
        output=TensorType(f.output.shape[1:]),
        macs=op.layer.macs([TensorType(x.shape[1:])], TensorType(f.output.shape[1:])),
    )
    sections = [replace(s, title=f"{PER_SLICE}{s.title}") for s in derive(inner)]
    note = Section(
        "Time distributed",
        (
            f"the inner {op.layer.type} sees one slice {inner.inputs[0]} at a time and shares its "
            f"weights over the {n(x.shape[0])} slices of the first axis",
            f"MACs: {n(inner.macs)} per slice x {n(x.shape[0])} = {n(f.macs)}",
            f"output {f.output}",
        ),
    )
    return [note, *sections]


def _other(f: Facts) -> Sections:
    summary = type(f.op).summary or f.op.type
    return [Section(f"Output {f.output}", (f"{summary}",)), _no_macs(f, "no weights to multiply")]


_FAMILIES: tuple[tuple[type, Callable[[Facts], Sections]], ...] = (
    (TimeDistributed, _time_distributed),
    (ConvND, _conv),
    (DepthwiseConv2D, _depthwise),
    (Conv2DTranspose, _transpose),
    (Dense, _dense),
    (Pool, _pool),
    (GlobalPool, _global_pool),
    (BatchNorm, _batch_norm),
    (Concat, _merge),
    (ElementWise, _merge),
    (Flatten, _flatten),
)
