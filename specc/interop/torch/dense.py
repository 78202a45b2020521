"""PyTorch export of dense: nn.Linear over the channel axis, moved last first where needed."""

from __future__ import annotations

from specc.interop.pysource import call
from specc.interop.torch.activation import activate
from specc.interop.torch.site import GENERATORS, LAST, Site, Value
from specc.ops.dense import Dense


@GENERATORS.register(Dense)
def _dense(site: Site) -> Value:
    op = site.op
    assert isinstance(op, Dense)
    kwargs = {} if op.bias else {"bias": False}
    linear = site.module(call("nn.Linear", site.channels(), op.units, **kwargs))
    site.load("kernel", f"{linear}.weight")
    if op.bias:
        site.load("bias", f"{linear}.bias")
    y = site.assign(f"{linear}({site.input(0, LAST)})", LAST)
    return activate(site, y, op.activation)
