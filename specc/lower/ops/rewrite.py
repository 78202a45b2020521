"""The lowering of the ops that only rewrites make (never written in a spec)."""

from __future__ import annotations

from specc.lower.builder import Builder, Node, lower, lowers
from specc.lower.steps import Value
from specc.passes.padding import PadOutput


@lowers(PadOutput)
def _pad_output(b: Builder, node: Node) -> Value:
    """The inner layer, whose final activation writes into the zero-padded buffer."""
    op = node.op
    assert isinstance(op, PadOutput)
    pads = op.pairs
    inner = tuple(n - a - z for n, (a, z) in zip(node.out_shape[1:-1], pads, strict=True))
    shape = (node.out_shape[0], *inner, node.out_shape[-1])
    b.pad_output = pads
    value = lower(b, node.inner(op.layer, node.inputs, shape))
    assert b.pad_output is None, f"{node.name}: no activation took the padding"
    return value
