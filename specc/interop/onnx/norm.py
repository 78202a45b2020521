"""ONNX export of normalisation: batch_norm as BatchNormalization over channels-first data,
layer_norm as LayerNormalization, group_norm as InstanceNormalization over the groups, and the
per-channel scale as Mul."""

from __future__ import annotations

import numpy as np

from specc.interop.onnx.graph import ANY, FIRST, LAST, Layout, Tensor
from specc.interop.onnx.merge import onnx_axis
from specc.interop.onnx.site import EXPORTS, Site
from specc.ir import weight_key
from specc.ops.norm import BatchNorm, GroupNorm, LayerNorm, Scale


@EXPORTS.register(BatchNorm)
def _batch_norm(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, BatchNorm)
    g = site.graph
    # The bound size: after flatten of a symbolic shape the channel count is an expression.
    channels = site.weights[weight_key(site.name, "moving_mean")].shape[0]

    def vector(param: str, fill: float) -> str:
        if site.has(param):
            return site.weight(param)
        return g.const(np.full(channels, fill, site.dtype), f"{site.name}/{param}")

    ins = [
        site.value(0, FIRST),
        vector("gamma", 1.0),
        vector("beta", 0.0),
        site.weight("moving_mean"),
        site.weight("moving_variance"),
    ]
    y = g.node("BatchNormalization", ins, site.name, epsilon=float(op.epsilon))
    return site.out(y, FIRST)


def channel_weight(site: Site, param: str, layout: Layout, x: Tensor) -> str:
    """A per-channel parameter as an initializer that broadcasts over `x` in `layout`:
    (C,) channels last, (C, 1, ..., 1) channels first."""
    array = np.asarray(site.weights[weight_key(site.name, param)], site.dtype)
    if layout == FIRST and x.rank > 2:
        array = array.reshape((-1, *(1,) * (x.rank - 2)))
    return site.graph.const(array, weight_key(site.name, param))


def _trailing(axes: tuple[int, ...], rank: int, layout: Layout) -> int | None:
    """The ONNX axis LayerNormalization starts at when `axes` are, in order, the last axes of
    the value in `layout`; None otherwise."""
    placed = [onnx_axis(a, rank, layout) for a in axes]
    if placed == list(range(rank + 1 - len(axes), rank + 1)):
        return placed[0]
    return None


@EXPORTS.register(LayerNorm)
def _layer_norm(site: Site) -> Tensor:
    """LayerNormalization over the trailing axes; other axes are moved to the end and back."""
    op = site.op
    assert isinstance(op, LayerNorm)
    g, x = site.graph, site.inputs[0]
    rank = len(x.shape)
    axes = op.axes(rank)
    beta = [site.weight("beta")] if site.has("beta") else []
    gamma = site.weight("gamma") if site.has("gamma") else None
    eps = float(op.epsilon)

    def normalise(value: str, start: int) -> str:
        scale = gamma
        if scale is None:  # LayerNormalization needs a scale: ones, shaped as the axes are
            from onnx import helper

            shape = g.node("Shape", [value], site.name, start=start)
            one = helper.make_tensor("one", helper.np_dtype_to_tensor_dtype(site.dtype), [1], [1.0])
            scale = g.node("ConstantOfShape", [shape], site.name, value=one)
        ins = [value, scale, *beta]
        return g.node("LayerNormalization", ins, site.name, axis=start, epsilon=eps)

    for layout in (x.layout, LAST):
        start = _trailing(axes, rank, layout) if layout != ANY else None
        if start is not None:
            return site.out(normalise(site.value(0, layout), start), layout)
    kept = [a + 1 for a in range(rank) if a not in axes]
    perm = [0, *kept, *(a + 1 for a in axes)]
    moved = g.node("Transpose", [site.value(0, LAST)], site.name, perm=perm)
    y = normalise(moved, rank + 1 - len(axes))
    back = [perm.index(i) for i in range(rank + 1)]
    return site.out(g.node("Transpose", [y], site.name, perm=back), LAST)


@EXPORTS.register(GroupNorm)
def _group_norm(site: Site) -> Tensor:
    """Channels first, (N, C, ...) seen as (N, groups, rest): InstanceNormalization normalises
    each group over the rest; then the input's shape back, and gamma and beta per channel."""
    op = site.op
    assert isinstance(op, GroupNorm)
    g, x = site.graph, site.inputs[0]
    value = site.value(0, FIRST)
    grouped = g.node(
        "Reshape", [value, g.ints([0, op.groups, -1], f"{site.name}/groups")], site.name
    )
    ones = g.const(np.ones(op.groups, site.dtype), f"{site.name}/ones")
    zeros = g.const(np.zeros(op.groups, site.dtype), f"{site.name}/zeros")
    normed = g.node(
        "InstanceNormalization", [grouped, ones, zeros], site.name, epsilon=float(op.epsilon)
    )
    y = g.node("Reshape", [normed, g.node("Shape", [value], site.name)], site.name)
    if site.has("gamma"):
        y = g.node("Mul", [y, channel_weight(site, "gamma", FIRST, x)], site.name)
    if site.has("beta"):
        y = g.node("Add", [y, channel_weight(site, "beta", FIRST, x)], site.name)
    return site.out(y, FIRST)


@EXPORTS.register(Scale)
def _scale(site: Site) -> Tensor:
    x = site.inputs[0]
    y = site.graph.node("Mul", [x.name, channel_weight(site, "gamma", x.layout, x)], site.name)
    return site.out(y, x.layout)
