"""Keras export of batch_norm: layers.BatchNormalization over the last axis."""

from __future__ import annotations

from specc.interop.keras.site import GENERATORS, Site
from specc.ops.norm import BatchNorm


@GENERATORS.register(BatchNorm)
def _batch_norm(site: Site) -> None:
    """The weights are [gamma, beta, moving_mean, moving_variance], without the ones that
    center or scale leave out: the spec's order."""
    op = site.op
    assert isinstance(op, BatchNorm)
    kwargs: dict[str, object] = {"epsilon": float(op.epsilon)}
    if not op.center:
        kwargs["center"] = "False"
    if not op.scale:
        kwargs["scale"] = "False"
    site.layer("layers.BatchNormalization", **kwargs)
