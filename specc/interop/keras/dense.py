"""Keras export of dense: layers.Dense, which acts on the last axis as the spec's does."""

from __future__ import annotations

from specc.interop.keras.activation import after, fused
from specc.interop.keras.site import GENERATORS, Site
from specc.ops.dense import Dense


@GENERATORS.register(Dense)
def _dense(site: Site) -> None:
    op = site.op
    assert isinstance(op, Dense)
    kwargs = {} if op.bias else {"use_bias": "False"}
    site.layer("layers.Dense", op.units, **kwargs, **fused(op.activation))
    after(site, op.activation)
