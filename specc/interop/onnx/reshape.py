"""ONNX export of the layers that move values: flatten, reshape, permute, dropout, identity,
zero padding and upsampling."""

from __future__ import annotations

from typing import Any

from specc.interop.onnx.graph import ANY, FIRST, LAST, Tensor
from specc.interop.onnx.merge import onnx_axis
from specc.interop.onnx.site import EXPORTS, Site
from specc.ops.reshape import Dropout, Flatten, Identity, Permute, Reshape, Upsample, ZeroPad


@EXPORTS.register(Flatten)
def _flatten(site: Site) -> Tensor:
    y = site.graph.node("Flatten", [site.value(0, LAST)], site.name, axis=1)
    return site.out(y, LAST)


@EXPORTS.register(Reshape)
def _reshape(site: Site) -> Tensor:
    g = site.graph
    target = [0, *(d if isinstance(d, int) else -1 for d in site.output.shape)]
    y = g.node("Reshape", [site.value(0, LAST), g.ints(target, f"{site.name}/shape")], site.name)
    return site.out(y, LAST)


@EXPORTS.register(Dropout, Identity)
def _identity(site: Site) -> Tensor:
    return site.inputs[0]  # dropout is the identity at inference


@EXPORTS.register(Permute)
def _permute(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, Permute)
    perm = [0, *(a + 1 for a in op.perm)]
    return site.out(site.graph.node("Transpose", [site.value(0, LAST)], site.name, perm=perm), LAST)


@EXPORTS.register(ZeroPad)
def _zero_pad(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, ZeroPad)
    x = site.inputs[0]
    rank = len(x.shape)
    before, after = [0] * (rank + 1), [0] * (rank + 1)
    for axis, (a, z) in enumerate(op.pairs):
        i = onnx_axis(axis, rank, x.layout)
        before[i], after[i] = a, z
    g = site.graph
    pads = g.ints(before + after, f"{site.name}/pads")
    return site.out(g.node("Pad", [site.value(0, ANY), pads], site.name, mode="constant"), x.layout)


@EXPORTS.register(Upsample)
def _upsample(site: Site) -> Tensor:
    """Nearest repeats each cell: Resize with the floor of asymmetric coordinates. Bilinear is
    Resize's linear mode at half-pixel centres (coordinates past the ends take the end cell)."""
    import numpy as np

    op = site.op
    assert isinstance(op, Upsample)
    g = site.graph
    x = site.inputs[0]
    scales = [1.0] * (len(x.shape) + 1)
    for axis, f in enumerate(op.factors):
        scales[onnx_axis(axis, len(x.shape), FIRST)] = float(f)
    how: dict[str, Any]
    if op.mode() == "bilinear":
        how = {"mode": "linear", "coordinate_transformation_mode": "half_pixel"}
    else:
        how = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric"}
        how["nearest_mode"] = "floor"
    scale = g.const(np.asarray(scales, np.float32), f"{site.name}/scales")
    y = g.node("Resize", [site.value(0, FIRST), "", scale], site.name, **how)
    return site.out(y, FIRST)
