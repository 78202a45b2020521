"""PyTorch export of cropping and slice: indexing, in whatever layout the input has (ends
counted from the end where the spec counts them so, so symbolic lengths need no size)."""

from __future__ import annotations

from collections.abc import Mapping

from specc.interop.torch.site import GENERATORS, Site, Value
from specc.ops.crop import Cropping, Slice


def index(x: Value, slices: Mapping[int, str]) -> str:
    """`x` indexed by `slices` (spec axis -> slice source) on its axes, `:` elsewhere."""
    at = {x.axis(a): s for a, s in slices.items()}
    return f"{x.code}[{', '.join(at.get(d, ':') for d in range(max(at) + 1))}]"


@GENERATORS.register(Cropping)
def _cropping(site: Site) -> Value:
    op = site.op
    assert isinstance(op, Cropping)
    x = site.inputs[0]
    slices = {
        axis: f"{before or ''}:{-after if after else ''}"
        for axis, (before, after) in enumerate(op.pairs)
        if before or after
    }
    return site.assign(index(x, slices) if slices else x.code, x.layout)


@GENERATORS.register(Slice)
def _slice(site: Site) -> Value:
    """Python's start:stop:step, as the spec's."""
    op = site.op
    assert isinstance(op, Slice)
    x = site.inputs[0]
    bounds = f"{_text(op.start)}:{_text(op.stop)}" + (f":{op.step}" if op.step != 1 else "")
    return site.assign(index(x, {op.resolved_axis(x.rank): bounds}), x.layout)


def _text(bound: int | None) -> str:
    return "" if bound is None else str(bound)
