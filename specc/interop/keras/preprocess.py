"""Keras export of preprocessing: layers.Rescaling and layers.Normalization."""

from __future__ import annotations

from specc.interop.keras.site import GENERATORS, Site
from specc.ops.preprocess import Normalization, Rescaling


@GENERATORS.register(Rescaling)
def _rescaling(site: Site) -> None:
    op = site.op
    assert isinstance(op, Rescaling)
    kwargs = {"offset": float(op.offset)} if op.offset else {}
    site.layer("layers.Rescaling", float(op.scale), **kwargs)


@GENERATORS.register(Normalization)
def _normalization(site: Site) -> None:
    """Built without statistics, the layer keeps them as its weights (mean, variance, count:
    the spec's order); `load_specc_weights` finalises it after setting them."""
    site.layer("layers.Normalization")
