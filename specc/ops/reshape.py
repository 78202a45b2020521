"""Layers that move values around without weights: flatten, reshape, permute, identity, zero
padding, upsampling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from specc.dims import Dim, equal, exact_div, format_dim, product, symbol
from specc.ir import TensorType, format_shape
from specc.ops.base import (
    AxisStep,
    Footprint,
    KeepAxes,
    Op,
    Problem,
    attr,
    expect_min_rank,
    expect_rank,
)
from specc.ops.common import (
    EXPLICIT_PADDING,
    IDENTIFIER,
    MAX_DIM,
    MAX_RANK,
    POOL,
    PaddingValue,
    Window,
    explicit_pads,
    per_axis,
)
from specc.ops.conv import AXES


class Flatten(Op):
    """Collapse all axes into one (the batch axis is never touched)."""

    type = "flatten"
    family = "reshape"
    summary = "collapse every axis into one"

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        return TensorType((product(inputs[0].shape),))

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        return "flatten"


RESHAPE_DIM = {
    "description": "a positive integer, -1 (inferred), or a symbol name",
    "oneOf": [
        {"type": "integer", "minimum": 1, "maximum": MAX_DIM},
        {"const": -1},
        {"type": "string", "pattern": IDENTIFIER},
    ],
}


class Reshape(Op):
    """Give the same elements a new shape; at most one -1 is inferred."""

    type = "reshape"
    family = "reshape"
    summary = "same elements, new per-sample shape"
    shape: tuple[int | str, ...] = attr(
        schema={"type": "array", "items": RESHAPE_DIM, "minItems": 1, "maxItems": MAX_RANK},
        doc="the new per-sample shape",
        examples=((-1,), (2, -1), (-1, 2), (-1, 3), (1, -1), (2, 2, -1), ("T", -1)),
    )

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        total = product(inputs[0].shape)
        target: list[Dim] = [symbol(d) if isinstance(d, str) else d for d in self.shape]
        if target.count(-1) > 1:
            raise Problem(
                "S105", f"reshape: shape {list(self.shape)} has more than one -1", "shape"
            )
        known = product(d for d in target if d != -1)
        if -1 in target:
            rest = exact_div(total, known)
            if rest is None:
                raise Problem(
                    "S105",
                    f"reshape: cannot reshape {inputs[0]} ({format_dim(total)} elements) into "
                    f"{list(self.shape)}: {format_dim(total)} is not divisible by "
                    f"{format_dim(known)}",
                    "shape",
                )
            target[target.index(-1)] = rest
        elif exact_div(total, known) != 1:
            raise Problem(
                "S105",
                f"reshape: cannot reshape {inputs[0]} ({format_dim(total)} elements) into "
                f"{format_shape(tuple(target))} ({format_dim(known)} elements)",
                "shape",
            )
        return TensorType(tuple(target))

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        """Leading spatial axes that keep their length keep their positions, e.g. (T, 20, 32)
        -> (T, 640); any other reshape folds positions together."""
        before, after = inputs[0].spatial, output.spatial
        kept = all(equal(a, b) for a, b in zip(after, before, strict=False))
        if len(after) <= len(before) and kept:
            return KeepAxes(tuple(range(len(after))))
        return "flatten"


class ZeroPad(Op):
    """Add zeros around the spatial axes."""

    family = "reshape"
    spatial: ClassVar[int] = 2
    padding: PaddingValue = attr(
        default=1, schema=EXPLICIT_PADDING, doc="zeros before/after each spatial axis"
    )

    @property
    def pairs(self) -> tuple[tuple[int, int], ...]:
        return explicit_pads(self.padding, self.spatial)

    @staticmethod
    def around(pairs: tuple[tuple[int, int], ...]) -> ZeroPad:
        """The zero_pad layer of this many spatial axes with these (before, after) pairs."""
        cls = next(c for c in ZeroPad.__subclasses__() if c.spatial == len(pairs))
        return cls(padding=tuple(tuple(p) for p in pairs))

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        expect_rank(self, x, self.spatial + 1, AXES[self.spatial])
        out = tuple(n + b + a for n, (b, a) in zip(x.spatial, self.pairs, strict=True))
        return TensorType((*out, x.channels))


class ZeroPad1D(ZeroPad):
    type = "zero_pad1d"
    spatial = 1
    summary = "zero padding of (steps, channels)"


class ZeroPad2D(ZeroPad):
    type = "zero_pad2d"
    spatial = 2
    summary = "zero padding of (height, width, channels)"


class ZeroPad3D(ZeroPad):
    type = "zero_pad3d"
    spatial = 3
    summary = "zero padding of (depth, height, width, channels)"


class Upsample(Op):
    """Repeat each cell `size` times along every spatial axis (nearest neighbour)."""

    family = "reshape"
    spatial: ClassVar[int] = 2
    size: Window = attr(
        default=2, schema=POOL, doc="repeat factor per spatial axis", examples=(1, 2, 3)
    )

    @property
    def factors(self) -> tuple[int, ...]:
        return per_axis(self.size, self.spatial, "size")

    def mode(self) -> str:
        """How output cells are made: "nearest" (repeats) or "bilinear"."""
        return "nearest"

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        expect_rank(self, x, self.spatial + 1, AXES[self.spatial])
        out = tuple(n * f for n, f in zip(x.spatial, self.factors, strict=True))
        return TensorType((*out, x.channels))

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        """Nearest: `f` outputs repeat each input, so each output reads one input position.
        Bilinear: each output mixes the two nearest inputs, as a transposed convolution with
        a 2f-wide kernel and stride f reads them (half-pixel centres shift which two: that
        phase is not tracked, the field's size is exact)."""
        width = 2 if self.mode() == "bilinear" else 1
        return tuple(AxisStep(width * f, up=f) for f in self.factors)


class Upsample1D(Upsample):
    type = "upsample1d"
    spatial = 1
    summary = "nearest-neighbour upsampling of (steps, channels)"


class Upsample2D(Upsample):
    type = "upsample2d"
    spatial = 2
    summary = "nearest-neighbour or bilinear upsampling of (height, width, channels)"
    interpolation: str = attr(
        default="nearest",
        schema={"enum": ["nearest", "bilinear"]},
        doc="'nearest' repeats cells; 'bilinear' interpolates between the two nearest cells "
        "per axis at half-pixel centres, without antialiasing (Keras's image.resize)",
    )

    def mode(self) -> str:
        return self.interpolation


class Upsample3D(Upsample):
    type = "upsample3d"
    spatial = 3
    summary = "nearest-neighbour upsampling of (depth, height, width, channels)"


class Identity(Op):
    """The input, unchanged (a placeholder, or a name for a branch point)."""

    type = "identity"
    family = "reshape"
    summary = "the input, unchanged"

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        return inputs[0]


class Permute(Op):
    """Reorder the per-sample axes: output axis i is input axis dims[i] (counted from 1, as
    Keras counts them past the batch axis)."""

    type = "permute"
    family = "reshape"
    summary = "reorder the per-sample axes (Keras's dims, counted from 1)"
    dims: tuple[int, ...] = attr(
        schema={
            "type": "array",
            "items": {"type": "integer", "minimum": 1, "maximum": MAX_RANK},
            "minItems": 1,
            "maxItems": MAX_RANK,
        },
        doc="the input axis of each output axis, counted from 1 without the batch axis "
        "(Keras's Permute): [2, 1] swaps the two axes of a (steps, features) input",
        examples=((2, 1), (1, 3, 2), (3, 1, 2), (2, 1, 3), (1,)),
    )

    @property
    def perm(self) -> tuple[int, ...]:
        """The input axis of each output axis, counted from 0."""
        return tuple(d - 1 for d in self.dims)

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        if sorted(self.dims) != list(range(1, x.rank + 1)):
            raise Problem(
                "S106",
                f"permute: dims {list(self.dims)} must order the axes 1 to {x.rank} of the input "
                f"{x}, each once (axes are counted from 1 without the batch axis, as in Keras)",
                "dims",
            )
        return TensorType(tuple(x.shape[a] for a in self.perm))

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        """Spatial axes reordered keep their positions while the channels stay last; moving
        the channels into a spatial axis mixes positions and channels."""
        perm = self.perm
        if perm[-1] != len(perm) - 1:
            return "flatten"
        return KeepAxes(perm[:-1])


class Dropout(Op):
    """Randomly zeroes inputs in training; the identity at inference (and in specc's runs)."""

    type = "dropout"
    family = "reshape"
    summary = "identity at inference; zeroes a fraction `rate` of inputs in training"
    rate: float = attr(
        schema={"type": "number", "minimum": 0, "exclusiveMaximum": 1},
        doc="fraction dropped in training",
        examples=(0.0, 0.25, 0.5),
    )

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        expect_min_rank(self, inputs[0], 1)
        return inputs[0]
