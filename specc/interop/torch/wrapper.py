"""PyTorch export of time_distributed: fold the first axis into the batch, run the inner
layer, unfold it again (with the size read at run time where it is symbolic)."""

from __future__ import annotations

from specc.interop.torch.site import GENERATORS, LAST, Site, Value, convert
from specc.ir import TensorType
from specc.ops.wrapper import TimeDistributed


@GENERATORS.register(TimeDistributed)
def _time_distributed(site: Site) -> Value:
    op = site.op
    assert isinstance(op, TimeDistributed)
    x = site.inputs[0]
    steps = x.spatial_dim(0)
    folded = site.assign(f"{site.input(0, LAST)}.flatten(0, 1)", LAST, x.shape[1:])
    inner = site.inner(op.layer, (folded,), TensorType(site.output.shape[1:]))
    return site.assign(f"{convert(inner, LAST)}.unflatten(0, (-1, {steps}))", LAST)
