"""ONNX export of merges: Add, Sub and Mul chains (broadcasting), and Concat with the axis in
the value's layout."""

from __future__ import annotations

from specc.interop.onnx.graph import FIRST, LAST, Layout, Tensor
from specc.interop.onnx.site import EXPORTS, Site
from specc.ops.merge import Add, Concat, Multiply, Subtract


def onnx_axis(axis: int, rank: int, layout: Layout) -> int:
    """The ONNX axis (batch first) of a spec axis (per sample, channels last, may be < 0)."""
    axis %= rank
    if layout == FIRST and rank > 1:
        return 1 if axis == rank - 1 else axis + 2
    return axis + 1


def _common(site: Site) -> tuple[Layout, list[str]]:
    """Every input in the layout of the first one."""
    layout = site.inputs[0].layout
    return layout, [site.graph.value(x, layout) for x in site.inputs]


def _aligned(site: Site, x: Tensor, layout: Layout, rank: int) -> str:
    """`x` in `layout` with the per-sample rank `rank`: ONNX broadcasts from the last axis
    over the batch axis too, so a lower-rank input first gains axes of 1 after the batch, as
    Keras's merge layers give it (one Unsqueeze; for channels alone in a channels-first
    value, the axes go after the channels)."""
    g = site.graph
    missing = rank - len(x.shape)
    if missing == 0:
        return g.value(x, layout)
    if len(x.shape) == 1 and layout == FIRST:  # (N, C) -> (N, C, 1, ...)
        axes = g.ints(range(2, rank + 1), f"{site.name}/axes")
        return g.node("Unsqueeze", [x.name, axes], site.name)
    axes = g.ints(range(1, missing + 1), f"{site.name}/axes")
    full = g.node("Unsqueeze", [g.value(x, LAST), axes], site.name)
    return g.value(Tensor(full, LAST, (*(1,) * missing, *x.shape)), layout)


def _chain(op_type: str):  # type: ignore[no-untyped-def]
    def export(site: Site) -> Tensor:
        rank = len(site.output.shape)
        # The layout of the first input of the output's rank: no transpose for the large one.
        layout = next(x.layout for x in site.inputs if len(x.shape) == rank)
        names = [_aligned(site, x, layout, rank) for x in site.inputs]
        y = names[0]
        for other in names[1:]:
            y = site.graph.node(op_type, [y, other], site.name)
        return site.out(y, layout)

    return export


EXPORTS.add(_chain("Add"), Add)
EXPORTS.add(_chain("Sub"), Subtract)
EXPORTS.add(_chain("Mul"), Multiply)


@EXPORTS.register(Concat)
def _concat(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, Concat)
    layout, names = _common(site)
    axis = onnx_axis(op.axis, len(site.output.shape), layout)
    return site.out(site.graph.node("Concat", names, site.name, axis=axis), layout)
