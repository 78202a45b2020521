"""ONNX import of normalisation: BatchNormalization as batch_norm over the channels."""

from __future__ import annotations

from specc.interop.onnx.imports.site import Site, imports


@imports("BatchNormalization")
def _batch_norm(site: Site) -> None:
    """gamma and beta are always kept: ONNX has no fixed scale or offset to leave out."""
    if site.attr("training_mode", 0) or len(site.node.outputs) > 1:
        raise site.unsupported("in training mode")
    x = site.first(0)
    arrays = [site.const(i) for i in range(1, 5)]
    if any(a is None for a in arrays):
        raise site.unsupported("with statistics computed by the graph")
    names = ("gamma", "beta", "moving_mean", "moving_variance")
    weights = {n: (a.reshape(-1), "keras") for n, a in zip(names, arrays, strict=True)}  # type: ignore[union-attr]
    epsilon = float(site.attr("epsilon", 1e-5))
    attrs = {"epsilon": float(f"{epsilon:.7g}")}
    site.out(site.emit("batch_norm", [x], attrs, weights=weights))  # type: ignore[arg-type]
