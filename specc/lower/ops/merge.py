"""Merging in NumPy: element-wise add and multiply (in place when an input is dead), concat."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from specc.lower.builder import Builder, Node, lowers
from specc.lower.steps import Consts, Value
from specc.ops.merge import Add, Concat, Multiply


def _alone(ins: tuple[Value, ...], i: int) -> bool:
    """Whether no other input shares the storage of input i (so writing it changes no other)."""
    return all(v.storage is not ins[i].storage for j, v in enumerate(ins) if j != i)


def _elementwise_merge(ufunc: np.ufunc) -> Callable[[Builder, Node], Value]:
    def lower_merge(b: Builder, node: Node) -> Value:
        ins = node.inputs
        # Overwrite a dead one of the first two inputs (a later one would be read after writing).
        target = next((i for i in (0, 1) if b.can_overwrite(ins[i]) and _alone(ins, i)), None)

        def run(arrays: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
            y = ufunc(arrays[0], arrays[1], out=out)
            for a in arrays[2:]:
                ufunc(y, a, out=y)
            return y

        flops = (len(ins) - 1) * ins[0].size
        if target is None:
            return b.emit(
                ufunc.__name__, node, ins, b.new(node.name, node.out_shape), run, flops=flops
            )
        out = b.alias(node.name, node.out_shape, ins[target])
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
