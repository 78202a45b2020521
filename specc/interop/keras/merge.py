"""Keras export of merges: Add, Subtract and Multiply (which broadcast as the spec does: a
lower-rank input gains leading axes of 1 after the batch), and Concatenate (the axis counted with
the batch)."""

from __future__ import annotations

from specc.interop.keras.site import GENERATORS, Site
from specc.ops.merge import Add, Concat, Multiply, Subtract


@GENERATORS.register(Add)
def _add(site: Site) -> None:
    site.layer("layers.Add")


@GENERATORS.register(Subtract)
def _subtract(site: Site) -> None:
    site.layer("layers.Subtract")


@GENERATORS.register(Multiply)
def _multiply(site: Site) -> None:
    site.layer("layers.Multiply")


@GENERATORS.register(Concat)
def _concat(site: Site) -> None:
    op = site.op
    assert isinstance(op, Concat)
    axis = op.axis if op.axis < 0 else op.axis + 1
    site.layer("layers.Concatenate", **({} if axis == -1 else {"axis": axis}))
