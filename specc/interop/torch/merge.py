"""PyTorch export of merges: `+` and `*` chains, and torch.cat along the axis in the layout."""

from __future__ import annotations

from specc.interop.torch.site import GENERATORS, Site, Value
from specc.ops.merge import Add, Concat, ElementWise


def _common(site: Site) -> list[str]:
    """Every input in the layout of the first one."""
    layout = site.inputs[0].layout
    return [site.input(i, layout) for i in range(len(site.inputs))]


@GENERATORS.register(ElementWise)
def _elementwise(site: Site) -> Value:
    operator = " + " if isinstance(site.op, Add) else " * "
    return site.assign(operator.join(_common(site)), site.inputs[0].layout)


@GENERATORS.register(Concat)
def _concat(site: Site) -> Value:
    op = site.op
    assert isinstance(op, Concat)
    x = site.inputs[0]
    return site.assign(f"torch.cat([{', '.join(_common(site))}], dim={x.axis(op.axis)})", x.layout)
