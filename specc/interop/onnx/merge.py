"""ONNX export of merges: Add and Mul chains, and Concat with the axis in the value's layout."""

from __future__ import annotations

from specc.interop.onnx.graph import FIRST, Layout, Tensor
from specc.interop.onnx.site import EXPORTS, Site
from specc.ops.merge import Add, Concat, Multiply


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


def _chain(op_type: str):  # type: ignore[no-untyped-def]
    def export(site: Site) -> Tensor:
        layout, names = _common(site)
        y = names[0]
        for other in names[1:]:
            y = site.graph.node(op_type, [y, other], site.name)
        return site.out(y, layout)

    return export


EXPORTS.add(_chain("Add"), Add)
EXPORTS.add(_chain("Mul"), Multiply)


@EXPORTS.register(Concat)
def _concat(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, Concat)
    layout, names = _common(site)
    axis = onnx_axis(op.axis, len(site.output.shape), layout)
    return site.out(site.graph.node("Concat", names, site.name, axis=axis), layout)
