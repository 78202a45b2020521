"""Normalisation: batch_norm (moving statistics), layer_norm and group_norm (statistics of each
sample), and scale (a learnt per-channel multiplier), all channels last."""

from __future__ import annotations

from collections.abc import Sequence

from specc.dims import exact_div, format_dim
from specc.ir import TensorType
from specc.ops.base import (
    Footprint,
    Op,
    Param,
    Problem,
    attr,
    expect_min_rank,
    vector_param,
)
from specc.ops.common import AXES, BOOL, POSITIVE_INT, sample_axes


def _epsilon() -> float:
    """The epsilon attribute every normalisation declares (each class needs its own)."""
    return attr(
        default=0.001,
        schema={"type": "number", "exclusiveMinimum": 0},
        doc="added to the variance",
        examples=(0.001, 1e-5, 0.1),
    )


class BatchNorm(Op):
    """Inference-mode batch normalisation with moving statistics, per channel."""

    type = "batch_norm"
    family = "norm"
    summary = "gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta, per channel"
    epsilon: float = _epsilon()
    center: bool = attr(default=True, schema=BOOL, doc="learn an offset beta")
    scale: bool = attr(default=True, schema=BOOL, doc="learn a scale gamma")

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        expect_min_rank(self, x, 1)
        return x

    def channel_affine(self) -> bool:
        return True

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        c = inputs[0].channels
        learned = [vector_param("gamma", c, "ones")] if self.scale else []
        learned += [vector_param("beta", c)] if self.center else []
        stats = [
            vector_param("moving_mean", c, trainable=False),
            vector_param("moving_variance", c, "ones", trainable=False),
        ]
        return (*learned, *stats)


def statistics_footprint(axes: tuple[int, ...], rank: int) -> Footprint:
    """Where statistics over `axes` reach: only the channels ("dense": positions kept), or some
    spatial axis too, so that every output reads that whole axis ("global", the bound)."""
    return "dense" if axes == (rank - 1,) else "global"


class LayerNorm(Op):
    """Keras's LayerNormalization: each sample normalised by its own mean and variance over
    `axis`, then scaled and shifted by parameters with the shape of those axes."""

    type = "layer_norm"
    family = "norm"
    summary = "(x - mean) / sqrt(variance + epsilon) * gamma + beta, statistics over `axis`"
    axis: int | tuple[int, ...] = attr(
        default=-1,
        schema=AXES,
        doc="the axis or axes to normalise over, counted without the batch axis",
        examples=(-1, 0, (-2, -1), (0, 1)),
    )
    epsilon: float = _epsilon()
    center: bool = attr(default=True, schema=BOOL, doc="learn an offset beta")
    scale: bool = attr(default=True, schema=BOOL, doc="learn a scale gamma")

    def axes(self, rank: int) -> tuple[int, ...]:
        """The normalised axes, sorted and non-negative (per sample)."""
        return sample_axes(self.axis, rank, self.type)

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        expect_min_rank(self, x, 1)
        self.axes(x.rank)
        return x

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        x = inputs[0]
        shape = tuple(x.shape[a] for a in self.axes(x.rank))
        out = (0,) if len(shape) == 1 else ()
        learned = [Param("gamma", shape, "ones", out_axes=out)] if self.scale else []
        return (*learned, *([Param("beta", shape, out_axes=out)] if self.center else []))

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        return statistics_footprint(self.axes(output.rank), output.rank)


class GroupNorm(Op):
    """Keras's GroupNormalization: the channels split into `groups` runs of C / groups; each
    sample is normalised per group over its positions and channels, then scaled and shifted
    per channel."""

    type = "group_norm"
    family = "norm"
    summary = "layer_norm per group of channels: statistics over positions and C / groups channels"
    groups: int = attr(
        default=32,
        schema=POSITIVE_INT,
        doc="number of channel groups; it must divide the channels",
        examples=(1, 2, 4),
    )
    epsilon: float = _epsilon()
    center: bool = attr(default=True, schema=BOOL, doc="learn an offset beta")
    scale: bool = attr(default=True, schema=BOOL, doc="learn a scale gamma")

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        expect_min_rank(self, x, 1)
        if exact_div(x.channels, self.groups) is None:
            raise Problem(
                "S103",
                f"group_norm: groups={self.groups} does not divide the "
                f"{format_dim(x.channels)} input channels",
                "groups",
            )
        return x

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        c = inputs[0].channels
        learned = [vector_param("gamma", c, "ones")] if self.scale else []
        return (*learned, *([vector_param("beta", c)] if self.center else []))

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        # The statistics of a group span every position.
        return "dense" if output.rank == 1 else "global"


class Scale(Op):
    """A learnt multiplier per channel: ConvNeXt's layer scale (y = x * gamma)."""

    type = "scale"
    family = "norm"
    summary = "x * gamma per channel (ConvNeXt's layer scale), gamma starting at init_value"
    init_value: float = attr(
        default=1e-6,
        schema={"type": "number"},
        doc="the initial value of every gamma",
        examples=(1e-6, 0.5, 1.0),
    )

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        expect_min_rank(self, x, 1)
        return x

    def channel_affine(self) -> bool:
        return True

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        return (vector_param("gamma", inputs[0].channels, "constant", value=self.init_value),)
