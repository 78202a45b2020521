"""How convolutions get their numbers, and the per-channel and separable alternatives; how a
separable convolution gets its numbers, and what the full convolution would cost."""

from __future__ import annotations

import math

from specc.dims import exact_div, product
from specc.explain.facts import (
    EXPLAINS,
    Facts,
    Section,
    Sections,
    alt,
    cost,
    formula,
    kernel_title,
    param,
    params_total,
    plural,
    ratio,
    taps,
    window_outputs,
)
from specc.explain.formulas import axis_name, n, term, times, transpose_axis
from specc.ir import format_shape
from specc.ops.base import Op
from specc.ops.conv import (
    Conv1D,
    Conv2D,
    Conv3D,
    ConvND,
    ConvTransposeND,
    DepthwiseConv2D,
    SeparableConvND,
)
from specc.ops.dense import Dense


@EXPLAINS.register(ConvND)
def _conv(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, ConvND)
    x = f.inputs[0]
    c, g, filters = x.channels, op.groups, op.filters
    per_group = exact_div(c, g)
    assert per_group is not None
    window = taps(op.kernel_size)
    if g == 1:
        depth = "the one input channel" if c == 1 else f"all {n(c)} input channels"
        what = (
            f"{filters} filters, each {window} over {depth}: a filter always spans the full "
            f"depth of its input, so the kernel has one axis more than the window"
        )
    else:
        what = (
            f"{filters} filters in {g} groups of {filters // g}; each filter is {window} over the "
            f"{n(per_group)} channels of its group ({n(c)} / {g})"
        )
    kernel = param(f, "kernel")
    assert kernel is not None
    weights = f"kernel {times(kernel.shape)} = {n(product(kernel.shape))}"
    weights += f", bias {filters}" if op.bias else ", no bias"
    inner = f"{window} x {term(per_group)}"
    sections = [
        Section(kernel_title(f, "(k..., C_in/groups, filters)"), (what,)),
        Section(
            "Parameters", (formula(str(filters), inner, params_total(f.params), op.bias), weights)
        ),
        window_outputs(f, op, f"channels: {filters} = filters"),
        cost(f, f"{times(f.output.shape)} outputs x ({inner}) each"),
    ]
    if op.padding == "causal":
        sections.insert(3, _causal(op))
    if all(k == 1 for k in op.kernel_size) and g == 1:
        sections.append(_pointwise_is_dense(f, op))
    elif g == 1:
        sections.append(_per_channel(f, op))
    return sections


def _causal(op: ConvND) -> Section:
    (k,), (d,) = op.kernel_size, op.dilations
    return Section(
        "Causal padding",
        (
            f"dilation x (kernel - 1) = {d} x ({k} - 1) = {d * (k - 1)} zeros before the input, "
            "none after: output t reads inputs t and earlier only",
            f"the output has what 'valid' gives on the padded input: ceil(n / "
            f"{op.strides[0]}) steps",
        ),
    )


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
            f"same parameters ({n(params_total(dense.params([x])))}); "
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
    window = taps(op.kernel_size)
    lines = []
    if filters % c == 0:
        mult = filters // c
        expected = ", ".join(str(k) for k in (*op.kernel_size, filters))
        lines.append(
            f"{filters} filters of {window} that each see one channel ({window} x {filters} = "
            f"{product(op.kernel_size) * filters:,} weights, the ({expected}) one might expect) "
            f"is a grouped convolution with groups = C_in:"
        )
        options: list[tuple[str, Op]] = [(f"{op.type} groups: {c}", op.replace(groups=c))]
        if op.spatial == 2:
            options.append((f"depthwise_conv2d multiplier: {mult}", _depthwise_like(op, mult)))
        for name, other in options:
            lines += ["  " + line for line in alt(name, other, x, params_total(f.params), f.macs)]
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
    params = params_total(per.params([x])) + params_total(mix.params([mid]))
    macs = per.macs([x], mid) + mix.macs([mid], mix.infer([mid]))
    return (
        f"separable (per-channel {taps(op.kernel_size)}, then a 1 x 1 {op.type} mixing "
        f"channels, as in MobileNet): {name} kernel {format_shape(per.params([x])[0].shape)} "
        f"+ 1 x 1 kernel {format_shape(mix.params([mid])[0].shape)}: {n(params)} params"
        f"{ratio(params, params_total(f.params))}, {n(macs)} MACs{ratio(macs, f.macs)}"
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


@EXPLAINS.register(DepthwiseConv2D)
def _depthwise(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, DepthwiseConv2D)
    x = f.inputs[0]
    c, m = x.channels, op.multiplier
    window = taps(op.kernel_size)
    sections = [
        Section(
            kernel_title(f, "(k..., C_in, multiplier)"),
            (
                f"each of the {plural(c, 'input channel')} has its own "
                f"{plural(m, 'filter')} of {window}; channels are never mixed (output channel "
                f"c x {m} + j comes from input channel c)",
            ),
        ),
        Section(
            "Parameters", (formula(f"{term(c)} x {m}", window, params_total(f.params), op.bias),)
        ),
        window_outputs(f, op, f"channels: {times((c, m))} = {n(c * m)} = C_in x multiplier"),
        cost(f, f"{times(f.output.shape)} outputs x {window} taps of one channel each"),
    ]
    if isinstance(c, int):
        full = _full_like(op, c * m)
        lines = alt(f"conv2d filters: {c * m}", full, x, params_total(f.params), f.macs)
        lines.append("follow it with a 1 x 1 conv2d to mix channels: a separable convolution")
        sections.append(Section("Compared with a full convolution", tuple(lines)))
    return sections


@EXPLAINS.register(ConvTransposeND)
def _transpose(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, ConvTransposeND)
    x = f.inputs[0]
    c, filters = x.channels, op.filters
    window = taps(op.kernel_size)
    weights = formula(str(filters), f"{window} x {term(c)}", params_total(f.params), op.bias)
    axes = [
        f"{axis_name(i, op.spatial)}: "
        + transpose_axis(
            size,
            op.kernel_size[i],
            op.strides[i],
            op.padding,
            f.output.shape[i],
            op.dilations[i],
        )
        for i, size in enumerate(x.spatial)
    ]
    what = (
        f"{filters} filters of {window} over {plural(c, 'input channel')}; every input value "
        f"is multiplied into a {window} x {filters} patch of the output, patches "
        f"{taps(op.strides)} apart"
    )
    return [
        Section(kernel_title(f, "(k..., filters, C_in)"), (what,)),
        Section("Parameters", (weights,)),
        Section(f"Output {f.output}", (*axes, f"channels: {filters} = filters")),
        cost(f, f"{times(x.shape)} inputs x ({window} x {filters}) each"),
    ]


FULL: dict[int, type[ConvND]] = {1: Conv1D, 2: Conv2D, 3: Conv3D}


@EXPLAINS.register(SeparableConvND)
def _separable_conv(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, SeparableConvND)
    x = f.inputs[0]
    c, m, filters, r = x.channels, op.depth_multiplier, op.filters, op.spatial
    mid = op.middle(x)
    window = taps(op.kernel_size)
    depthwise, pointwise = param(f, "depthwise_kernel"), param(f, "pointwise_kernel")
    assert depthwise is not None and pointwise is not None
    title = (
        f"Kernel {format_shape(depthwise.shape)} + {format_shape(pointwise.shape)}  layouts "
        f"(k..., C_in, depth_multiplier) and (1..., C_in x depth_multiplier, filters); PyTorch "
        f"stores {format_shape(depthwise.layout_torch)} and {format_shape(pointwise.layout_torch)}"
    )
    what = (
        f"the depthwise kernel gives each of the {plural(c, 'input channel')} its own "
        f"{plural(m, 'filter')} of {window} (channels are not mixed); the pointwise kernel, a "
        f"{taps((1,) * r)} convolution, then mixes those {times((c, m))} = {n(mid)} channels "
        f"into {filters}; the bias and activation come after it"
    )
    parts = [f"{window} x {times((c, m))}", f"{times((c, m))} x {filters}"]
    values = [n(product(depthwise.shape)), n(product(pointwise.shape))]
    if op.bias:
        parts.append(str(filters))
        values.append(str(filters))
    params = (
        f"{' + '.join(parts)} = {' + '.join(values)} = {n(params_total(f.params))}  "
        f"(depthwise + pointwise{' + bias' if op.bias else ''})"
    )
    spatial = times(f.output.spatial)
    macs = (
        f"{spatial} x {n(mid)} depthwise outputs x {window} taps + {spatial} x {filters} "
        f"outputs x {n(mid)} channels"
    )
    sections = [
        Section(title, (what,)),
        Section("Parameters", (params,)),
        window_outputs(f, op, f"channels: {filters} = filters ({n(mid)} between the steps)"),
        cost(f, macs),
    ]
    if isinstance(c, int):
        sections.append(_against_full(f, op, c))
    return sections


def _against_full(f: Facts, op: SeparableConvND, c: int) -> Section:
    """The full convolution with the same window and filters, and MobileNet's cost ratio."""
    full = FULL[op.spatial](
        filters=op.filters, kernel=op.kernel, stride=op.stride, padding=op.padding,
        dilation=op.dilation, bias=op.bias,
    )  # fmt: skip
    x = f.inputs[0]
    name = f"{full.type} filters: {op.filters}"
    lines = alt(name, full, x, params_total(f.params), f.macs)
    k, m, filters = math.prod(op.kernel_size), op.depth_multiplier, op.filters
    window = taps(op.kernel_size)
    lines.append(
        f"per output position the full convolution does {window} x {c} x {filters} = "
        f"{n(k * c * filters)} multiply-adds, the separable one {c} x {m} x ({window} + "
        f"{filters}) = {n(c * m * (k + filters))}: {m} / {filters} + {m} / {k} = "
        f"{m / filters + m / k:.3f} of them"
    )
    return Section("Compared with a full convolution", tuple(lines))
