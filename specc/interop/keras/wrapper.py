"""Keras export of time_distributed: each Keras layer of the inner one in a TimeDistributed."""

from __future__ import annotations

from dataclasses import replace

from specc.interop.keras.site import GENERATORS, PLAIN, Site, Step
from specc.ir import TensorType
from specc.ops.wrapper import TimeDistributed


@GENERATORS.register(TimeDistributed)
def _time_distributed(site: Site) -> None:
    """The wrapper of the inner layer's own Keras layer takes the spec layer's name, and with
    it the weights (TimeDistributed sets its inner layer's)."""
    op = site.op
    assert isinstance(op, TimeDistributed)
    x = site.inputs[0]
    inner = site.inner(op.layer, (TensorType(x.shape[1:]),), TensorType(site.output.shape[1:]))
    for step in inner.steps:
        if step.how != PLAIN:
            raise site.fail(
                f"of {op.layer.type} is not supported: Keras's TimeDistributed calls its layer "
                "on one tensor"
            )
        if step.name == inner.name:
            site.layer("layers.TimeDistributed", step.constructor())
        else:
            wrapped = replace(step, name=site.names.fresh(f"{step.name}_inner"))
            site.steps.append(
                Step("layers.TimeDistributed", (wrapped.constructor(),), {}, step.name)
            )
