"""Embeddings in NumPy: one gather of table rows straight into the output."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from specc.lower.builder import Builder, Node, lowers
from specc.lower.steps import Consts, Value
from specc.ops.embedding import Embedding


@lowers(Embedding)
def _embedding(b: Builder, node: Node) -> Value:
    op = node.op
    assert isinstance(op, Embedding)
    (x,) = node.inputs
    key = node.key("embeddings")

    def bind(weights: Mapping[str, NDArray]) -> Consts:
        return (weights[key],)

    def run(ins: list[NDArray], out: NDArray | None, c: Consts) -> NDArray:
        return embedding(ins[0], c[0], out)

    out = b.new(node.name, node.out_shape)
    return b.emit(
        "gather",
        node,
        (x,),
        out,
        run,
        bind=bind,
        const_bytes=op.input_dim * op.output_dim * b.itemsize,
        detail=f"{op.input_dim}x{op.output_dim} table",
    )


def embedding(indices: NDArray, table: NDArray, out: NDArray | None = None) -> NDArray:
    """Row `i` of `table` for each index `i`: (..., ) -> (..., output_dim).

    The indices were checked to lie in [0, input_dim) when the input was bound, so "clip"
    never changes one; unlike the default "raise", it writes into `out` without a buffer.
    """
    return np.take(table, indices, axis=0, out=out, mode="clip")
