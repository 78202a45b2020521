"""ONNX export of embedding: Gather of table rows by the int32 indices of the input."""

from __future__ import annotations

from specc.interop.onnx.graph import LAST, Tensor
from specc.interop.onnx.site import EXPORTS, Site
from specc.ops.embedding import Embedding


@EXPORTS.register(Embedding)
def _embedding(site: Site) -> Tensor:
    g = site.graph
    # Gather takes int32 and int64 indices alike: the int32 input needs no cast.
    y = g.node("Gather", [site.weight("embeddings"), site.value(0, LAST)], site.name, axis=0)
    return site.out(y, LAST)
