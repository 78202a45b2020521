"""Merging in NumPy: element-wise add, subtract and multiply, broadcasting (in place when an
input of the output's shape is dead), and concat."""

from __future__ import annotations

from collections.abc import Callable
from math import prod

import numpy as np
from numpy.typing import NDArray

from specc.lower.builder import Builder, Node, lowers
from specc.lower.steps import Consts, Value
from specc.ops.merge import Add, Concat, Multiply, Subtract


def _alone(ins: tuple[Value, ...], i: int) -> bool:
    """Whether no other input shares the storage of input i (so writing it changes no other)."""
    return all(v.storage is not ins[i].storage for j, v in enumerate(ins) if j != i)


def batch_aligned(x: NDArray, rank: int) -> NDArray:
    """`x` with axes of 1 after the batch axis up to `rank` axes, as Keras's merge layers
    align a lower-rank input (a view: NumPy alone would align the batch axis with another)."""
    if x.ndim == rank:
        return x
    return x.reshape(x.shape[0], *(1,) * (rank - x.ndim), *x.shape[1:])


def _elementwise_merge(ufunc: np.ufunc) -> Callable[[Builder, Node], Value]:
    def lower_merge(b: Builder, node: Node) -> Value:
        ins, shape = node.inputs, node.out_shape
        rank = len(shape)
        # Overwrite a dead one of the first two inputs when it has the output's shape (a later
        # one would be read after writing; a broadcast one is too small).
        target = next(
            (
                i
                for i in (0, 1)
                if ins[i].shape == shape and b.can_overwrite(ins[i]) and _alone(ins, i)
            ),
            None,
        )

        def run(arrays: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
            xs = [batch_aligned(a, rank) for a in arrays]
            y = ufunc(xs[0], xs[1], out=out)
            for a in xs[2:]:
                ufunc(y, a, out=y)
            return y

        flops = (len(ins) - 1) * prod(shape)
        if target is None:
            return b.emit(ufunc.__name__, node, ins, b.new(node.name, shape), run, flops=flops)
        out = b.alias(node.name, shape, ins[target])
        return b.emit(
            ufunc.__name__,
            node,
            ins,
            out,
            run,
            mode="in_place",
            target=target,
            flops=flops,
        )

    return lower_merge


lowers(Add)(_elementwise_merge(np.add))
lowers(Subtract)(_elementwise_merge(np.subtract))
lowers(Multiply)(_elementwise_merge(np.multiply))


@lowers(Concat)
def _concat(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Concat)
    axis = op.axis % (len(node.out_shape) - 1) + 1  # past the batch axis

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return np.concatenate(ins, axis=axis, out=out)

    return b.emit(
        "concat", node, node.inputs, b.new(node.name, node.out_shape), run, detail=f"axis {axis}"
    )
