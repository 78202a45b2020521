"""Preprocessing in the model: rescaling by constants and Keras's Normalization by stored
per-channel statistics (channels last)."""

from __future__ import annotations

from collections.abc import Sequence

from specc.ir import TensorType
from specc.ops.base import Op, Param, attr, expect_min_rank, vector_param

# Keras's backend.epsilon(): the floor of the standard deviation Normalization divides by.
KERAS_EPSILON = 1e-7


class Rescaling(Op):
    """Keras's Rescaling: y = x * scale + offset with constants (no parameters)."""

    type = "rescaling"
    family = "preprocess"
    summary = "x * scale + offset, constants (e.g. scale 1/255 for 8-bit pixels)"
    scale: float = attr(
        schema={"type": "number"},
        doc="the factor every value is multiplied by",
        examples=(0.00392156862745098, 2.0, -0.5),
    )
    offset: float = attr(
        default=0.0,
        schema={"type": "number"},
        doc="added after scaling",
        examples=(0.0, -1.0, 0.5),
    )

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        expect_min_rank(self, x, 1)
        return x


class Normalization(Op):
    """Keras's Normalization over the last axis, with its adapted statistics as weights:
    y = (x - mean) / max(sqrt(variance), 1e-7), per channel."""

    type = "normalization"
    family = "preprocess"
    summary = "(x - mean) / max(sqrt(variance), 1e-7) per channel, with stored statistics"

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        expect_min_rank(self, x, 1)
        return x

    def channel_affine(self) -> bool:
        return True

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        c = inputs[0].channels
        # Keras keeps `count` (the samples adapt() saw) for older saved models: one more value.
        return (
            vector_param("mean", c, trainable=False),
            vector_param("variance", c, "ones", trainable=False),
            Param("count", (), "zeros", trainable=False),
        )
