"""Normalisation: batch_norm over the channel (last) axis."""

from __future__ import annotations

from collections.abc import Sequence

from specc.ir import TensorType
from specc.ops.base import Op, Param, attr, expect_min_rank, vector_param
from specc.ops.common import BOOL


class BatchNorm(Op):
    """Inference-mode batch normalisation with moving statistics, per channel."""

    type = "batch_norm"
    family = "norm"
    summary = "gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta, per channel"
    epsilon: float = attr(
        default=0.001,
        schema={"type": "number", "exclusiveMinimum": 0},
        doc="added to the variance",
        examples=(0.001, 1e-5, 0.1),
    )
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
