"""Keras export of the layers that move values: Flatten, Reshape, Permute, Identity, Dropout,
ZeroPadding and UpSampling1D/2D/3D."""

from __future__ import annotations

from specc.interop.keras.site import GENERATORS, Site
from specc.interop.pysource import window
from specc.ops.reshape import Dropout, Flatten, Identity, Permute, Reshape, Upsample, ZeroPad


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


@GENERATORS.register(Permute)
def _permute(site: Site) -> None:
    """Keras's dims are the spec's: counted from 1, without the batch."""
    op = site.op
    assert isinstance(op, Permute)
    site.layer("layers.Permute", op.dims)


@GENERATORS.register(Identity)
def _identity(site: Site) -> None:
    site.layer("layers.Identity")


@GENERATORS.register(Upsample)
def _upsample(site: Site) -> None:
    """Keras's bilinear resizes at half-pixel centres without antialiasing, as the spec's."""
    op = site.op
    assert isinstance(op, Upsample)
    kwargs = {} if op.mode() == "nearest" else {"interpolation": f'"{op.mode()}"'}
    site.layer(f"layers.UpSampling{op.spatial}D", window(op.factors), **kwargs)
