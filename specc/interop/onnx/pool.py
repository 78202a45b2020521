"""ONNX export of pooling: MaxPool and AveragePool (padding left out of averages), and global
pooling as a reduction over the spatial axes."""

from __future__ import annotations

from typing import Any

from specc.interop.onnx.conv import window_pads
from specc.interop.onnx.graph import FIRST, Tensor
from specc.interop.onnx.site import EXPORTS, Site
from specc.ops.pool import GlobalPool, Pool


@EXPORTS.register(Pool)
def _pool(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, Pool)
    kind = "MaxPool" if op.kind == "max" else "AveragePool"
    extra: dict[str, Any] = {} if op.kind == "max" else {"count_include_pad": 0}
    y = site.graph.node(
        kind,
        [site.value(0, FIRST)],
        site.name,
        kernel_shape=list(op.kernel_size),
        strides=list(op.strides),
        **window_pads(op, site.inputs[0]),
        **extra,
    )
    return site.out(y, FIRST)


@EXPORTS.register(GlobalPool)
def _global_pool(site: Site) -> Tensor:
    op = site.op
    assert isinstance(op, GlobalPool)
    kind = "GlobalMaxPool" if op.kind == "max" else "GlobalAveragePool"
    g = site.graph
    y = g.node(kind, [site.value(0, FIRST)], site.name)  # (N, C, 1, ...)
    if op.keepdims:
        return site.out(y, FIRST)
    return site.out(g.node("Flatten", [y], site.name, axis=1), FIRST)
