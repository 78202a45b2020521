"""Keras export of pooling: MaxPooling/AveragePooling 1D-3D and global pooling."""

from __future__ import annotations

from specc.interop.keras.site import GENERATORS, Site
from specc.interop.pysource import window
from specc.ops.pool import GlobalPool, Pool


@GENERATORS.register(Pool)
def _pool(site: Site) -> None:
    op = site.op
    assert isinstance(op, Pool)
    kwargs: dict[str, object] = {}
    if op.strides != op.kernel_size:
        kwargs["strides"] = window(op.strides)
    if op.padding == "same":
        kwargs["padding"] = '"same"'
    name = "MaxPooling" if op.kind == "max" else "AveragePooling"
    site.layer(f"layers.{name}{op.spatial}D", window(op.kernel_size), **kwargs)


@GENERATORS.register(GlobalPool)
def _global_pool(site: Site) -> None:
    op = site.op
    assert isinstance(op, GlobalPool)
    n = site.inputs[0].rank - 1
    if n > 3:
        raise site.fail(f"over {n} spatial axes is not supported (Keras pools 1 to 3)")
    name = "GlobalMaxPooling" if op.kind == "max" else "GlobalAveragePooling"
    site.layer(f"layers.{name}{n}D", **({"keepdims": "True"} if op.keepdims else {}))
