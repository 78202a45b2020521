"""Pooling: max and average over 1-3 spatial axes, and global pooling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from specc.ir import TensorType
from specc.ops.base import Footprint, Op, attr, expect_min_rank
from specc.ops.common import BOOL, MODE_PADDING, POOL, STRIDE, Window
from specc.ops.conv import WindowOp
from specc.ops.window import window_shape


class Pool(WindowOp):
    """A window reduction; average pooling leaves padded cells out of the divisor."""

    family = "pool"
    window_attr = "pool"
    kind: ClassVar[Literal["max", "avg"]] = "max"
    pool: Window = attr(
        default=2, schema=POOL, doc="window size per spatial axis", examples=(1, 2, 3)
    )
    stride: Window | None = attr(
        default=None,
        schema={**STRIDE, "oneOf": [*STRIDE["oneOf"], {"type": "null"}]},
        doc="step (default: the pool size)",
    )
    padding: str = attr(default="valid", schema=MODE_PADDING, doc="'valid' or 'same'")

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        self._check_input(x)
        out = window_shape(
            x.spatial, self.kernel_size, self.strides, self.dilations, self.pads, "pool window"
        )
        return TensorType((*out, x.channels))


def _pool(kind: Literal["max", "avg"], n: int) -> type[Pool]:
    what = "maximum" if kind == "max" else "average"
    namespace = {
        "type": f"{kind}_pool{n}d",
        "kind": kind,
        "spatial": n,
        "summary": f"{what} over each {n}-D window",
    }
    return type(f"{kind.title()}Pool{n}D", (Pool,), namespace)


MaxPool1D, MaxPool2D, MaxPool3D = (_pool("max", n) for n in (1, 2, 3))
AvgPool1D, AvgPool2D, AvgPool3D = (_pool("avg", n) for n in (1, 2, 3))


class GlobalPool(Op):
    """Reduce every spatial axis, leaving one value per channel."""

    family = "pool"
    kind: ClassVar[Literal["max", "avg"]] = "avg"
    keepdims: bool = attr(
        default=False,
        schema=BOOL,
        doc="keep every spatial axis as an axis of 1: (1, 1, C) for a (H, W, C) input",
    )

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        expect_min_rank(self, x, 2)
        kept = (1,) * len(x.spatial) if self.keepdims else ()
        return TensorType((*kept, x.channels))

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        return "global"


class GlobalAvgPool(GlobalPool):
    type = "global_avg_pool"
    kind = "avg"
    summary = "mean over all spatial axes"


class GlobalMaxPool(GlobalPool):
    type = "global_max_pool"
    kind = "max"
    summary = "maximum over all spatial axes"
