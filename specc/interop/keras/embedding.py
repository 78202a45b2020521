"""Keras export of embedding: layers.Embedding over the integer input."""

from __future__ import annotations

from specc.interop.keras.site import GENERATORS, Site
from specc.ops.embedding import Embedding


@GENERATORS.register(Embedding)
def _embedding(site: Site) -> None:
    op = site.op
    assert isinstance(op, Embedding)
    site.layer("layers.Embedding", op.input_dim, op.output_dim)
