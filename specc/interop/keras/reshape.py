"""Keras export of the layers that move values: Flatten, Reshape, Dropout, ZeroPadding and
UpSampling2D."""

from __future__ import annotations

from specc.interop.keras.site import GENERATORS, Site
from specc.interop.pysource import window
from specc.ops.reshape import Dropout, Flatten, Reshape, Upsample2D, ZeroPad


@GENERATORS.register(Flatten)
def _flatten(site: Site) -> None:
    site.layer("layers.Flatten")


@GENERATORS.register(Reshape)
def _reshape(site: Site) -> None:
    """The spec's shape; its one symbolic dim (if any) is left to Keras as -1."""
    dims = site.output.shape
    symbolic = [d for d in dims if not isinstance(d, int)]
    if len(symbolic) > 1:
        raise site.fail(f"to a shape with {len(symbolic)} symbolic dims is not supported")
    site.layer("layers.Reshape", tuple(d if isinstance(d, int) else -1 for d in dims))


@GENERATORS.register(Dropout)
def _dropout(site: Site) -> None:
    op = site.op
    assert isinstance(op, Dropout)
    site.layer("layers.Dropout", float(op.rate))


@GENERATORS.register(ZeroPad)
def _zero_pad(site: Site) -> None:
    op = site.op
    assert isinstance(op, ZeroPad)
    pads: object = op.pairs[0] if op.spatial == 1 else op.pairs
    site.layer(f"layers.ZeroPadding{op.spatial}D", pads)


@GENERATORS.register(Upsample2D)
def _upsample(site: Site) -> None:
    op = site.op
    assert isinstance(op, Upsample2D)
    site.layer("layers.UpSampling2D", window(op.factors))
