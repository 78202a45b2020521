"""Moving values around in NumPy: views, zero padding and nearest-neighbour upsampling."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from specc.lower import window
from specc.lower.builder import Builder, Node, lowers
from specc.lower.padding import pad
from specc.lower.steps import Consts, Value
from specc.lower.window import Pairs
from specc.ops.reshape import Dropout, Flatten, Reshape, Upsample2D, ZeroPad


@lowers(Flatten, Reshape, Dropout)
def _view(b: Builder, node: Node) -> Value:
    return b.view(node, node.inputs[0], node.out_shape)


@lowers(ZeroPad)
def _zero_pad(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, ZeroPad)
    x = node.inputs[0]
    if not any(a or z for a, z in op.pairs):
        return b.view(node, x, x.shape)
    return pad(b, node, x, op.pairs, name=node.name)


@lowers(Upsample2D)
def _upsample(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Upsample2D)
    factors = op.factors

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return upsample_nearest(ins[0], factors, out=out)

    out = b.new(node.name, node.out_shape)
    return b.emit("upsample", node, node.inputs, out, run, detail="x".join(map(str, factors)))


def zero_pad(x: NDArray, pairs: Pairs) -> NDArray:
    """Zeros (before, after) around each spatial axis."""
    y = window.pad(x, pairs)
    return x.copy() if y is x else y


def upsample_nearest(x: NDArray, factors: tuple[int, ...], out: NDArray | None = None) -> NDArray:
    """Repeat every spatial cell `factors[i]` times along axis i."""
    n, *spatial, c = x.shape
    shape = (n, *(s * f for s, f in zip(spatial, factors, strict=True)), c)
    y = np.empty(shape, x.dtype) if out is None else out
    # Seen as (N, H, fh, W, fw, C), the output is the input broadcast over the factor axes: one
    # pass of writes, no intermediate copy per axis.
    split = (n, *(d for s, f in zip(spatial, factors, strict=True) for d in (s, f)), c)
    spread = (slice(None), *(i for _ in spatial for i in (slice(None), None)), slice(None))
    if y.flags.c_contiguous:
        y.reshape(split)[...] = x[spread]
    else:  # reshaping a strided array would copy; write through a contiguous one
        y[...] = np.broadcast_to(x[spread], split).reshape(shape)
    return y
