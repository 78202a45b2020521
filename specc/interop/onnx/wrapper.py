"""ONNX export of time_distributed: fold the first axis into the batch, run the inner layer,
unfold it again (shapes taken at run time, so symbolic axes stay free)."""

from __future__ import annotations

from specc.interop.onnx.graph import LAST, Graph, Tensor
from specc.interop.onnx.site import EXPORTS, Site
from specc.ir import TensorType
from specc.ops.wrapper import TimeDistributed


def _shape_slice(g: Graph, x: str, start: int, end: int, hint: str) -> str:
    shape = g.node("Shape", [x], hint)
    return g.node(
        "Slice", [shape, g.ints([start], f"{hint}/start"), g.ints([end], f"{hint}/end")], hint
    )


@EXPORTS.register(TimeDistributed)
def _time_distributed(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, TimeDistributed)
    g, x = site.graph, site.inputs[0]
    big = 2**62  # Slice's "to the end"
    data = site.value(0, LAST)
    folded = g.node(
        "Concat", [g.ints([-1], f"{site.name}/minus1"), _shape_slice(g, data, 2, big, site.name)],
        site.name, axis=0,
    )  # fmt: skip
    flat = g.node("Reshape", [data, folded], site.name)
    inner = site.inner(
        op.layer, (Tensor(flat, LAST, x.shape[1:]),), TensorType(site.output.shape[1:])
    )
    inner_last = g.value(inner, LAST)
    unfolded = g.node(
        "Concat",
        [_shape_slice(g, data, 0, 2, site.name), _shape_slice(g, inner_last, 1, big, site.name)],
        site.name,
        axis=0,
    )
    return site.out(g.node("Reshape", [inner_last, unfolded], site.name), LAST)
