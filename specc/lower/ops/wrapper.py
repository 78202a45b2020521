"""Wrappers in NumPy: time_distributed lowers its layer on the time steps folded into the batch."""

from __future__ import annotations

from specc.lower.builder import Builder, Node, lower, lowers
from specc.lower.steps import Value
from specc.ops.wrapper import TimeDistributed


@lowers(TimeDistributed)
def _time_distributed(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, TimeDistributed)
    (x,) = node.inputs
    n, t = x.shape[:2]
    flat = b.view(node, x, (n * t, *x.shape[2:]), name=f"{node.name}:slices")
    inner = lower(b, node.inner(op.layer, (flat,), (n * t, *node.out_shape[2:])))
    return b.view(node, inner, node.out_shape)
