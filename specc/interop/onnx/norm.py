"""ONNX export of normalisation: batch_norm as BatchNormalization over channels-first data."""

from __future__ import annotations

import numpy as np

from specc.interop.onnx.graph import FIRST, Tensor
from specc.interop.onnx.site import EXPORTS, Site
from specc.ops.norm import BatchNorm


@EXPORTS.register(BatchNorm)
def _batch_norm(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, BatchNorm)
    g, channels = site.graph, site.output.shape[-1]
    assert isinstance(channels, int)

    def vector(param: str, fill: float) -> str:
        if site.has(param):
            return site.weight(param)
        return g.const(np.full(channels, fill, site.dtype), f"{site.name}/{param}")

    ins = [
        site.value(0, FIRST),
        vector("gamma", 1.0),
        vector("beta", 0.0),
        site.weight("moving_mean"),
        site.weight("moving_variance"),
    ]
    y = g.node("BatchNormalization", ins, site.name, epsilon=float(op.epsilon))
    return site.out(y, FIRST)
