"""ONNX export of cropping and slicing: one Slice, on the axes as the value's layout has them."""

from __future__ import annotations

from specc.interop.onnx.graph import ANY, Tensor
from specc.interop.onnx.merge import onnx_axis
from specc.interop.onnx.site import EXPORTS, Site
from specc.ops.crop import Cropping, Slice

# Slice's end for "to the end of the axis" (ONNX clamps it, as Python does).
END = 2**63 - 1


@EXPORTS.register(Cropping)
def _cropping(site: Site) -> Tensor:
    """Ends counted from the end of each axis (-after), so that symbolic lengths need none."""
    op = site.op
    assert isinstance(op, Cropping)
    x = site.inputs[0]
    rank = len(x.shape)
    kept = [(axis, a, z) for axis, (a, z) in enumerate(op.pairs) if a or z]
    if not kept:
        return x
    axes = [onnx_axis(axis, rank, x.layout) for axis, _, _ in kept]
    starts = [a for _, a, _ in kept]
    ends = [-z if z else END for _, _, z in kept]
    return _slice(site, x, starts, ends, axes, [1] * len(axes))


@EXPORTS.register(Slice)
def _slice_layer(site: Site) -> Tensor:
    """Python's and ONNX's slices agree (negative indices, clamping) for a positive step."""
    op = site.op
    assert isinstance(op, Slice)
    x = site.inputs[0]
    rank = len(x.shape)
    axis = onnx_axis(op.resolved_axis(rank), rank, x.layout)
    start = 0 if op.start is None else op.start
    stop = END if op.stop is None else op.stop
    return _slice(site, x, [start], [stop], [axis], [op.step])


def _slice(
    site: Site, x: Tensor, starts: list[int], ends: list[int], axes: list[int], steps: list[int]
) -> Tensor:
    g, hint = site.graph, site.name
    inputs = [
        site.value(0, ANY),
        g.ints(starts, f"{hint}/starts"),
        g.ints(ends, f"{hint}/ends"),
        g.ints(axes, f"{hint}/axes"),
        g.ints(steps, f"{hint}/steps"),
    ]
    return site.out(g.node("Slice", inputs, hint), x.layout)
