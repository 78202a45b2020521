"""embedding: a learned vector for each integer index (a lookup table, Keras's Embedding)."""

from __future__ import annotations

from collections.abc import Sequence

from specc.dims import Dim
from specc.ir import TensorType
from specc.ops.base import Footprint, Op, Param, attr, expect_min_rank
from specc.ops.common import POSITIVE_INT


class Embedding(Op):
    """Row x of `embeddings` for each index x of the input; the input must be a model input
    declared with `dtype: int32` and its values in [0, input_dim)."""

    type = "embedding"
    family = "embedding"
    summary = "a learned vector of output_dim values for each integer index below input_dim"
    input_dim: int = attr(
        schema=POSITIVE_INT, doc="number of indices (the vocabulary size)", examples=(1, 5, 10)
    )
    output_dim: int = attr(
        schema=POSITIVE_INT, doc="size of each vector (the last output axis)", examples=(1, 2, 4)
    )

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        expect_min_rank(self, x, 1)
        return TensorType((*x.shape, self.output_dim))

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        """embeddings (input_dim, output_dim), Keras's RandomUniform(-0.05, 0.05) ("uniform")."""
        return (Param("embeddings", (self.input_dim, self.output_dim), "uniform"),)

    def index_bound(self) -> Dim | None:
        return self.input_dim

    def macs(self, inputs: Sequence[TensorType], output: TensorType) -> Dim:
        """0: a lookup copies rows, it multiplies nothing."""
        return 0

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        """Each index gives its own vector: every position of an integer input (all of its
        axes are positions, it has no channels) is kept, and the vector becomes the channels."""
        return "same"
