"""Keras export of cropping (layers.Cropping1D/2D/3D) and slice (indexing, in a Lambda layer:
Keras has no slicing layer)."""

from __future__ import annotations

from specc.interop.keras.site import GENERATORS, Site
from specc.ops.crop import Cropping, Slice


@GENERATORS.register(Cropping)
def _cropping(site: Site) -> None:
    op = site.op
    assert isinstance(op, Cropping)
    crops: object = op.pairs[0] if op.spatial == 1 else op.pairs
    site.layer(f"layers.Cropping{op.spatial}D", crops)


@GENERATORS.register(Slice)
def _slice(site: Site) -> None:
    """`t[:, :, start:stop:step]`, the axis counted with the batch: Python's slice, as the
    spec's, on every length (symbolic ones included)."""
    op = site.op
    assert isinstance(op, Slice)
    axis = op.resolved_axis(site.inputs[0].rank) + 1
    bounds = f"{_text(op.start)}:{_text(op.stop)}" + (f":{op.step}" if op.step != 1 else "")
    site.layer("layers.Lambda", f"lambda t: t[{', '.join([':'] * axis + [bounds])}]")


def _text(index: int | None) -> str:
    return "" if index is None else str(index)
