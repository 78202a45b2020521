"""ONNX import of normalisation: BatchNormalization as batch_norm over the channels,
LayerNormalization as layer_norm, specc's group-norm pattern as group_norm, and (x - mean) /
std by per-channel constants as normalization."""

from __future__ import annotations

import numpy as np

from specc.interop.onnx.imports.common import channel_vector, per_channel
from specc.interop.onnx.imports.merge import number
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


@imports("LayerNormalization")
def _layer_norm(site: Site) -> None:
    """The ONNX axes from `axis` on are spec axes (through the value's permutation); gamma
    and beta come in ONNX's order of those axes and are transposed to the spec's sorted one.
    A scale made by ConstantOfShape (specc's export of `scale: false`) is no weight."""
    if len(site.node.outputs) > 1 and any(site.node.outputs[1:]):
        raise site.unsupported("with its mean or variance as outputs")
    x = site.val(0)
    start = int(site.attr("axis", -1)) % x.rank
    try:
        spec_axes = [x.spec_axis(a) for a in range(start, x.rank)]
    except ValueError:
        raise site.unsupported("over the batch axis") from None
    order = np.argsort(spec_axes)
    made = {n.outputs[0] for n in site.b.graph.nodes if n.op_type == "ConstantOfShape"}
    weights = {}
    for i, name in ((1, "gamma"), (2, "beta")):
        if not site.has(i) or (i == 1 and site.node.inputs[1] in made):
            continue
        a = site.const(i)
        if a is None:
            raise site.unsupported(f"with {name} computed by the graph")
        n = x.rank - start
        a = a.reshape((1,) * (n - a.ndim) + a.shape)
        want = [x.onnx_shape[start + j] for j in range(n)]
        a = np.broadcast_to(
            a, [d if isinstance(d, int) else a.shape[j] for j, d in enumerate(want)]
        )
        weights[name] = (np.transpose(a, order).copy(), "keras")
    axes = sorted(spec_axes)
    rank = len(x.shape)
    axis = axes[0] if len(axes) == 1 else tuple(axes)
    if axes == [rank - 1]:
        axis = -1
    attrs = {
        "axis": axis,
        "epsilon": number(site.attr("epsilon", 1e-5)),
        "center": "beta" in weights,
        "scale": "gamma" in weights,
    }
    site.out(site.emit("layer_norm", [x], attrs, weights=weights))  # type: ignore[arg-type]


@imports("specc.GroupNorm")
def _group_norm(site: Site) -> None:
    x = site.first(0)
    weights = {}
    for i, name in ((1, "gamma"), (2, "beta")):
        if site.has(i):
            a = site.const(i)
            v = None if a is None else channel_vector(x, a)
            if v is None:
                raise site.unsupported(f"with a {name} that is not one value per channel")
            weights[name] = (v, "keras")
    attrs = {
        "groups": int(site.attr("groups")),
        "epsilon": number(site.attr("epsilon")),
        "center": "beta" in weights,
        "scale": "gamma" in weights,
    }
    site.out(site.emit("group_norm", [x], attrs, weights=weights))  # type: ignore[arg-type]


@imports("specc.Normalization")
def _normalization(site: Site) -> None:
    """Keras's count is kept where the source keeps it (as specc's export does), else 0
    (nothing reads it at inference)."""
    x = site.val(0)
    mean_c, std_c = site.const(1), site.const(2)
    assert mean_c is not None and std_c is not None
    found = per_channel(site, x, mean_c, std_c)
    if found is None:
        if mean_c.size == 1:
            m, s = float(mean_c.reshape(-1)[0]), float(std_c.reshape(-1)[0])
            attrs = {"scale": number(1 / s), "offset": number(-m / s)}
            site.out(site.emit("rescaling", [x], attrs))
            return
        raise site.unsupported("by constants that are not one value per channel")
    x, (mean, std) = found
    weights = {"mean": (mean, "keras"), "variance": (np.square(std.astype(np.float64)), "keras")}
    count = site.b.graph.constants.get(f"{site.node.outputs[0]}.count")
    kept = count is not None and count.size == 1
    weights["count"] = (count.reshape(()) if kept else np.zeros(()), "keras")  # type: ignore[union-attr]
    site.out(site.emit("normalization", [x], {}, weights=weights))  # type: ignore[arg-type]
