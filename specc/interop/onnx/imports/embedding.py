"""ONNX import of embedding: Gather of the rows of a constant table by computed indices, and
the Cast of integer indices to floats (the spec computes on floats after its inputs)."""

from __future__ import annotations

from specc.interop.onnx.imports.site import Site, imports
from specc.interop.onnx.layout import identity


@imports("Gather")
def _gather(site: Site) -> None:
    table = site.const(0)
    if table is None or table.ndim != 2 or int(site.attr("axis", 0)) != 0:
        raise site.unsupported("other than rows of a constant 2-D table")
    x = site.plain(1)
    attrs = {"input_dim": int(table.shape[0]), "output_dim": int(table.shape[1])}
    y = site.emit("embedding", [x], attrs, identity(x.rank + 1), {"embeddings": (table, "keras")})
    site.out(y)


@imports("Cast")
def _cast(site: Site) -> None:
    """To a float type: the same spec value (an int32 input reads as floats in the spec)."""
    from onnx import TensorProto

    floats = (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16)
    if site.attr("to") not in floats:
        raise site.unsupported("to a type other than a float")
    site.out(site.val(0))
