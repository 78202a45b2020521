"""Cropping and slicing in NumPy: a strided view of the input copied into the contiguous buffer
every plan value has (a view of its own when nothing is removed)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from specc.lower.builder import Builder, Node, lowers
from specc.lower.steps import Consts, Value
from specc.ops.crop import Cropping, Slice

Index = tuple[Any, ...]


@lowers(Cropping)
def _cropping(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Cropping)
    x = node.inputs[0]
    index = crop_index(x.shape, op.pairs)
    detail = ", ".join(f"{a}+{z}" for a, z in op.pairs)
    return copy_part(b, node, x, index, "crop", detail)


@lowers(Slice)
def _slice(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Slice)
    x = node.inputs[0]
    axis = op.resolved_axis(len(x.shape) - 1) + 1  # past the batch axis
    taken = op.bounds(x.shape[axis])
    index: Index = (*(slice(None),) * axis, slice(taken.start, taken.stop, taken.step))
    detail = f"axis {axis}: {taken.start}:{taken.stop}:{taken.step}"
    return copy_part(b, node, x, index, "slice", detail)


def crop_index(shape: tuple[int, ...], pairs: tuple[tuple[int, int], ...]) -> Index:
    """The basic index of what cropping keeps of a (N, *spatial, C) array."""
    kept = (slice(a, n - z) for n, (a, z) in zip(shape[1:-1], pairs, strict=True))
    return (slice(None), *kept, slice(None))


def copy_part(b: Builder, node: Node, x: Value, index: Index, kind: str, detail: str) -> Value:
    """The part `x[index]` of `x`: a view when it is all of `x`, else copied into a buffer of
    its own (a strided part of a batch is not contiguous, and every plan value is)."""
    if node.out_shape == x.shape:
        return b.view(node, x, x.shape)

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        part = ins[0][index]
        if out is None:
            return np.array(part)
        np.copyto(out, part)
        return out

    out = b.new(node.name, node.out_shape)
    return b.emit(kind, node, (x,), out, run, detail=detail)
