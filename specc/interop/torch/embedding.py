"""PyTorch export of embedding: nn.Embedding over the integer input's indices."""

from __future__ import annotations

from specc.interop.pysource import call
from specc.interop.torch.site import GENERATORS, LAST, Site, Value
from specc.ops.embedding import Embedding


@GENERATORS.register(Embedding)
def _embedding(site: Site) -> Value:
    """The table is Keras's (input_dim, output_dim), as nn.Embedding keeps it; the vectors
    become the last axis, the channels."""
    op = site.op
    assert isinstance(op, Embedding)
    table = site.module(call("nn.Embedding", op.input_dim, op.output_dim))
    site.load("embeddings", f"{table}.weight")
    return site.assign(f"{table}({site.input(0, LAST)})", LAST)
