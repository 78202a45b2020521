"""Merging branches: element-wise add and multiply, and concat along an axis."""

from __future__ import annotations

from collections.abc import Sequence

from specc.dims import equal
from specc.ir import TensorType
from specc.ops.base import Op, Problem, attr


def _shapes(inputs: Sequence[TensorType]) -> str:
    items = [str(x) for x in inputs]
    return ", ".join(items[:-1]) + " and " + items[-1]


class ElementWise(Op):
    """Combine inputs of identical shape element by element."""

    family = "merge"
    min_inputs = 2
    max_inputs = None

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        first = inputs[0]
        for x in inputs[1:]:
            same = x.rank == first.rank and all(
                equal(a, b) for a, b in zip(x.shape, first.shape, strict=True)
            )
            if not same:
                raise Problem(
                    "S102", f"{self.type}: inputs have shapes {_shapes(inputs)}; they must be equal"
                )
        return first


class Add(ElementWise):
    type = "add"
    summary = "element-wise sum (residual connections)"


class Multiply(ElementWise):
    type = "multiply"
    summary = "element-wise product (gating)"


class Concat(Op):
    """Join inputs along `axis`; every other axis must match."""

    type = "concat"
    family = "merge"
    summary = "join inputs along an axis (default: channels)"
    min_inputs = 2
    max_inputs = None
    axis: int = attr(
        default=-1,
        schema={"type": "integer"},
        doc="axis to join along (negative counts from the end)",
        examples=(-1, 0, 1, -2),
    )

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        rank = inputs[0].rank
        if any(x.rank != rank for x in inputs):
            raise Problem(
                "S102", f"concat: inputs have shapes {_shapes(inputs)}; their ranks differ"
            )
        if not -rank <= self.axis < rank:
            # Keras counts the batch axis: its channels-last axis 3 of a rank-3 map is 2 here.
            meant = (
                f"; Keras's axis {self.axis}, which counts the batch axis, is axis "
                f"{self.axis - 1} here (or -1), the last"
            )
            raise Problem(
                "S106",
                f"concat: axis {self.axis} is out of range for rank {rank}: axes are counted "
                f"without the batch axis, from 0 to {rank - 1} (or -{rank} to -1)"
                + (meant if self.axis == rank else ""),
                "axis",
            )
        axis = self.axis % rank
        for i in range(rank):
            if i != axis and not all(equal(x.shape[i], inputs[0].shape[i]) for x in inputs):
                raise Problem(
                    "S102",
                    f"concat: inputs have shapes {_shapes(inputs)}; "
                    f"all axes but {self.axis} must be "
                    f"equal, axis {i} is not",
                )
        total = inputs[0].shape[axis]
        for x in inputs[1:]:
            total = total + x.shape[axis]
        shape = list(inputs[0].shape)
        shape[axis] = total
        return TensorType(tuple(shape))
