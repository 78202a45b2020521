"""PyTorch export of merges: `+`, `-` and `*` (broadcasting as the spec does), and torch.cat
along the axis in the layout."""

from __future__ import annotations

from specc.interop.torch.site import FIRST, GENERATORS, LAST, Site, Value, convert
from specc.ops.merge import Add, Concat, Multiply, Subtract


def _common(site: Site) -> list[str]:
    """Every input in the layout of the first one."""
    layout = site.inputs[0].layout
    return [site.input(i, layout) for i in range(len(site.inputs))]


def _combine(site: Site, operator: str) -> Value:
    """The inputs joined by `operator`, in the layout of the first input of the output's rank.

    The spec broadcasts per-sample shapes aligned from the last axis (channels last): an input
    of lower rank gains axes of 1 after the batch, added to its channels-last form, before it
    moves to the layout; inputs of the full rank broadcast alike in either layout."""
    rank = len(site.output.shape)
    layout = next(x.layout for x in site.inputs if x.rank == rank)
    terms = []
    for x in site.inputs:
        nones = ", ".join(["None"] * (rank - x.rank))
        if x.rank == 1 < rank and layout == FIRST:  # per-channel: (N, C) -> (N, C, 1, 1)
            x = Value(f"{x.code}[:, :, {nones}]", FIRST, (*(1,) * (rank - 1), *x.shape))
        elif x.rank < rank:
            x = Value(f"{convert(x, LAST)}[:, {nones}]", LAST, (*(1,) * (rank - x.rank), *x.shape))
        terms.append(convert(x, layout))
    return site.assign(f" {operator} ".join(terms), layout)


@GENERATORS.register(Add)
def _add(site: Site) -> Value:
    return _combine(site, "+")


@GENERATORS.register(Subtract)
def _subtract(site: Site) -> Value:
    return _combine(site, "-")


@GENERATORS.register(Multiply)
def _multiply(site: Site) -> Value:
    return _combine(site, "*")


@GENERATORS.register(Concat)
def _concat(site: Site) -> Value:
    op = site.op
    assert isinstance(op, Concat)
    x = site.inputs[0]
    return site.assign(f"torch.cat([{', '.join(_common(site))}], dim={x.axis(op.axis)})", x.layout)
