"""ONNX export of dense: MatMul over the last axis, then the bias and the activation."""

from __future__ import annotations

from specc.interop.onnx.activation import activate
from specc.interop.onnx.graph import LAST, Tensor
from specc.interop.onnx.site import EXPORTS, Site
from specc.ops.dense import Dense


@EXPORTS.register(Dense)
def _dense(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, Dense)
    g = site.graph
    y = g.node("MatMul", [site.value(0, LAST), site.weight("kernel")], site.name)
    if op.bias:
        y = g.node("Add", [y, site.weight("bias")], site.name)
    return activate(site, site.out(y, LAST), op.activation)
