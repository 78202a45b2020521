"""How a dense layer gets its numbers, and why it is a 1 x 1 convolution on a larger input."""

from __future__ import annotations

from specc.explain.facts import (
    EXPLAINS,
    Facts,
    Section,
    Sections,
    cost,
    formula,
    kernel_title,
    params_total,
)
from specc.explain.formulas import n, term, times
from specc.ops.dense import Dense


@EXPLAINS.register(Dense)
def _dense(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, Dense)
    x = f.inputs[0]
    c, units = x.channels, op.units
    lines = [f"{units} units, each a weighted sum of all {n(c)} values of the last axis"]
    if x.rank > 1:
        lines.append(
            f"applied alike at each of the {times(x.shape[:-1])} positions: a 1 x 1 convolution "
            f"with kernel ({', '.join('1' for _ in x.spatial)}, {n(c)}, {units})"
        )
    return [
        Section(kernel_title(f, "(C_in, units)"), tuple(lines)),
        Section("Parameters", (formula(str(units), term(c), params_total(f.params), op.bias),)),
        Section(f"Output {f.output}", (f"the last axis {n(c)} becomes {units} = units",)),
        cost(f, f"{times(f.output.shape)} outputs x {term(c)} each"),
    ]
