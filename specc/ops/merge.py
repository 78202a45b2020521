"""Merging branches: element-wise add, subtract and multiply (broadcasting), and concat along an
axis."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from specc.dims import Dim, equal
from specc.ir import TensorType
from specc.ops.base import Footprint, Op, Problem, attr


def _shapes(inputs: Sequence[TensorType]) -> str:
    items = [str(x) for x in inputs]
    return ", ".join(items[:-1]) + " and " + items[-1]


def broadcast(shapes: Sequence[tuple[Dim, ...]]) -> tuple[Dim, ...] | None:
    """NumPy's broadcast of per-sample shapes, aligned from the last axis: each axis must be
    provably equal across the inputs, or 1 in all but one of them; None when they cannot."""
    rank = max(len(s) for s in shapes)
    out: list[Dim] = []
    for axis in range(-rank, 0):
        sizes = [s[axis] for s in shapes if len(s) >= -axis]
        wide = [d for d in sizes if d != 1]
        if wide and not all(equal(d, wide[0]) for d in wide[1:]):
            return None
        out.append(wide[0] if wide else 1)
    return tuple(out)


class ElementWise(Op):
    """Combine inputs element by element, broadcast as NumPy broadcasts the per-sample shapes
    (Keras's merge layers: a lower-rank input gains leading axes of 1 after the batch)."""

    family = "merge"
    min_inputs = 2
    max_inputs: ClassVar[int | None] = None

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        shape = broadcast([x.shape for x in inputs])
        if shape is None:
            raise Problem(
                "S102",
                f"{self.type}: inputs have shapes {_shapes(inputs)}; they must be equal, or "
                "broadcast: aligned from the last axis, each axis equal or 1",
            )
        return TensorType(shape)

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        """Each output position reads the same position of every input (a broadcast input's
        only position along its axes of 1, or along the axes it lacks)."""
        return "same"


class Add(ElementWise):
    type = "add"
    summary = "element-wise sum (residual connections), broadcasting"


class Subtract(ElementWise):
    type = "subtract"
    summary = "element-wise difference: the first input minus the second, broadcasting"
    max_inputs = 2


class Multiply(ElementWise):
    type = "multiply"
    summary = "element-wise product (gating), broadcasting"


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
