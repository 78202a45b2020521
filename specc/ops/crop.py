"""Taking part of a tensor: cropping around the spatial axes, and a slice of one axis."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from specc.dims import Dim, ceildiv, format_dim, is_symbolic
from specc.ir import TensorType
from specc.ops.base import AxisStep, Footprint, Json, Op, Problem, attr, expect_rank
from specc.ops.common import EXPLICIT_PADDING, MAX_DIM, POSITIVE_INT, PaddingValue, explicit_pads
from specc.ops.conv import AXES


class Cropping(Op):
    """Remove (before, after) cells at the ends of each spatial axis (Keras's CroppingND)."""

    family = "crop"
    spatial: ClassVar[int] = 2
    cropping: PaddingValue = attr(
        default=1,
        schema=EXPLICIT_PADDING,
        doc="cells removed before/after each spatial axis: an int, or per axis an int or a "
        "[before, after] pair",
        examples=(0, 1, 2),
    )

    @property
    def pairs(self) -> tuple[tuple[int, int], ...]:
        return explicit_pads(self.cropping, self.spatial, "cropping")

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        expect_rank(self, x, self.spatial + 1, AXES[self.spatial])
        out: list[Dim] = []
        for axis, (n, (before, after)) in enumerate(zip(x.spatial, self.pairs, strict=True)):
            kept = n - before - after
            if not is_symbolic(kept) and kept < 1:  # type: ignore[operator]
                raise Problem(
                    "S104",
                    f"{self.type}: spatial axis {axis} of {x} shrinks to zero or below: "
                    f"{format_dim(n)} - {before} - {after} = {format_dim(kept)}",
                    "cropping",
                )
            out.append(kept)
        return TensorType((*out, x.channels))


class Cropping1D(Cropping):
    type = "cropping1d"
    spatial = 1
    summary = "crop the ends of (steps, channels)"


class Cropping2D(Cropping):
    type = "cropping2d"
    spatial = 2
    summary = "crop the borders of (height, width, channels)"
    cropping: PaddingValue = attr(
        default=0,
        schema=EXPLICIT_PADDING,
        doc="cells removed before/after each spatial axis: an int, or per axis an int or a "
        "[before, after] pair",
        examples=(0, 1, 2),
    )


class Cropping3D(Cropping):
    type = "cropping3d"
    spatial = 3
    summary = "crop the borders of (depth, height, width, channels)"


INDEX: Json = {
    "description": "an integer (negative counts from the end), or null",
    "oneOf": [{"type": "integer", "minimum": -MAX_DIM, "maximum": MAX_DIM}, {"type": "null"}],
}


class Slice(Op):
    """Python's x[start:stop:step] along one per-sample axis (a channel split, a time window)."""

    type = "slice"
    family = "crop"
    summary = "Python's start:stop:step along one axis"
    axis: int = attr(
        default=-1,
        schema={"type": "integer", "minimum": -MAX_DIM, "maximum": MAX_DIM},
        doc="the axis to slice, counted without the batch axis (negative counts from the end)",
        examples=(-1, 0, 1),
    )
    start: int | None = attr(
        default=None,
        schema=INDEX,
        doc="the first index taken (Python's: negative counts from the end; null: the start)",
        examples=(None, 0, 1, -2),
    )
    stop: int | None = attr(
        default=None,
        schema=INDEX,
        doc="the index before which to stop (Python's: negative counts from the end; null: "
        "the end)",
        examples=(None, 2, -1),
    )
    step: int = attr(
        default=1, schema=POSITIVE_INT, doc="take every step-th index", examples=(1, 2)
    )

    def resolved_axis(self, rank: int) -> int:
        """The axis in 0..rank-1; S106 when out of range."""
        if not -rank <= self.axis < rank:
            raise Problem(
                "S106",
                f"slice: axis {self.axis} is out of range for rank {rank}: axes are counted "
                f"without the batch axis, from 0 to {rank - 1} (or -{rank} to -1)",
                "axis",
            )
        return self.axis % rank

    def bounds(self, n: int) -> range:
        """The indices taken from an axis of length n."""
        return range(*slice(self.start, self.stop, self.step).indices(n))

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        axis = self.resolved_axis(x.rank)
        n = x.shape[axis]
        shape = list(x.shape)
        shape[axis] = self._length(x, axis, n)
        return TensorType(tuple(shape))

    def _length(self, x: TensorType, axis: int, n: Dim) -> Dim:
        where = f"slice [{_text(self.start)}:{_text(self.stop)}:{self.step}]"
        if isinstance(n, int):
            length = len(self.bounds(n))
            if length < 1:
                raise Problem(
                    "S104",
                    f"{where} of axis {axis} of {x} (length {n}) takes no element",
                    "stop" if self.stop is not None else "start",
                )
            return length
        # A symbolic length: exact only when start counts from the beginning and stop from the
        # end (trimming both ends), as Python's clamping would otherwise need a min().
        if self.start is not None and self.start < 0:
            raise Problem("S108", self._unprovable(where, axis, x, "start"), "start")
        if self.stop is not None and self.stop >= 0:
            raise Problem("S108", self._unprovable(where, axis, x, "stop"), "stop")
        start = self.start or 0
        stop = n + (self.stop or 0)
        return ceildiv(stop - start, self.step)

    def _unprovable(self, where: str, axis: int, x: TensorType, bound: str) -> str:
        n = format_dim(x.shape[axis])
        value = getattr(self, bound)
        side = "end" if bound == "start" else "start"
        return (
            f"{where} of axis {axis} of {x}: {bound} {value} counts from the {side} of an axis "
            f"of symbolic length {n}, so the length depends on whether {n} reaches it; on a "
            f"symbolic axis, start counts from the start (>= 0) and stop from the end (< 0)"
        )

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        """Positions along the sliced spatial axis are `step` input positions apart."""
        x = inputs[0]
        axis = self.resolved_axis(x.rank)
        if axis == x.rank - 1:
            return "same"
        return tuple(AxisStep(1, stride=self.step if a == axis else 1) for a in range(x.rank - 1))


def _text(index: int | None) -> str:
    return "" if index is None else str(index)
