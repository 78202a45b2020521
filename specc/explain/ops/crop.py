"""How cropping and slicing shorten their axes."""

from __future__ import annotations

from specc.explain.facts import EXPLAINS, Facts, Section, Sections, no_macs
from specc.explain.formulas import axis_name, n, term
from specc.ops.crop import Cropping, Slice


@EXPLAINS.register(Cropping)
def _cropping(f: Facts) -> Sections:
    op, x = f.op, f.inputs[0]
    assert isinstance(op, Cropping)
    lines = tuple(
        f"{axis_name(i, op.spatial)}: {term(d)} - {a} - {z} = {n(o)}"
        for i, (d, (a, z), o) in enumerate(zip(x.spatial, op.pairs, f.output.spatial, strict=True))
    )
    return [Section(f"Output {f.output}", lines), no_macs(f, "values are only copied")]


@EXPLAINS.register(Slice)
def _slice(f: Facts) -> Sections:
    op, x = f.op, f.inputs[0]
    assert isinstance(op, Slice)
    axis = op.resolved_axis(x.rank)
    start = "" if op.start is None else op.start
    stop = "" if op.stop is None else op.stop
    line = (
        f"axis {axis}: [{start}:{stop}:{op.step}] of {n(x.shape[axis])} takes "
        f"{n(f.output.shape[axis])} (Python's slice: negative bounds count from the end)"
    )
    return [Section(f"Output {f.output}", (line,)), no_macs(f, "values are only copied")]
