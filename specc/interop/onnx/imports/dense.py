"""ONNX import of dense layers: Gemm, and MatMul with an optional Add (fused by patterns)."""

from __future__ import annotations

import numpy as np

from specc.interop.onnx.imports.site import Site, imports
from specc.interop.onnx.layout import identity


@imports("specc.Dense")
def _dense(site: Site) -> None:
    """A flattened channels-first map (`flat`) takes its kernel rows in ONNX's order."""
    x = site.val(0)
    w = site.const(1)
    assert w is not None
    kernel = w.T if site.attr("transposed") else w
    if x.flat is not None:
        reordered = np.empty_like(kernel)
        reordered[np.asarray(x.flat)] = kernel
        kernel = reordered
        x = type(x)(x.ref, x.shape, x.perm, None, x.nonneg)
    x = site.as_perm(x, identity(x.rank))
    weights = {"kernel": (kernel, "keras")}
    bias = site.const(2)
    if bias is not None:
        weights["bias"] = (bias.reshape(-1), "keras")
    attrs = {"units": int(kernel.shape[1]), "bias": bias is not None}
    site.out(site.emit("dense", [x], attrs, weights=weights))  # type: ignore[arg-type]
