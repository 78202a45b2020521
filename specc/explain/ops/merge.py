"""How merges shape their output: concat adds up one axis, element-wise ops keep the shape."""

from __future__ import annotations

from specc.explain.facts import EXPLAINS, Facts, Section, Sections, no_macs
from specc.explain.formulas import n, term
from specc.ops.merge import Concat, ElementWise


@EXPLAINS.register(Concat)
def _concat(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, Concat)
    axis = op.axis % f.output.rank
    parts = " + ".join(term(x.shape[axis]) for x in f.inputs)
    line = f"axis {axis}: {parts} = {n(f.output.shape[axis])}; other axes are shared"
    return [Section(f"Output {f.output}", (line,)), _no_macs(f)]


@EXPLAINS.register(ElementWise)
def _element_wise(f: Facts) -> Sections:
    shapes = ", ".join(str(x) for x in f.inputs)
    lines = [f"inputs {shapes} are combined element by element"]
    if any(x != f.output for x in f.inputs):
        lines.append(
            "aligned from the last axis, an axis of 1 (or a missing leading one) is repeated "
            f"to the output's {f.output}"
        )
    if f.op.type == "subtract":
        lines.append("the first input minus the second")
    return [Section(f"Output {f.output}", tuple(lines)), _no_macs(f)]


def _no_macs(f: Facts) -> Section:
    return no_macs(f, "element-wise and copying work")
