"""How time_distributed explains its inner layer on one slice, and what the slices share."""

from __future__ import annotations

from dataclasses import replace

from specc.explain.facts import EXPLAINS, PER_SLICE, Facts, Section, Sections, derive
from specc.explain.formulas import n
from specc.ir import TensorType
from specc.ops.wrapper import TimeDistributed


@EXPLAINS.register(TimeDistributed)
def _time_distributed(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, TimeDistributed)
    x = f.inputs[0]
    inner = replace(
        f,
        op=op.layer,
        inputs=(TensorType(x.shape[1:]),),
        output=TensorType(f.output.shape[1:]),
        macs=op.layer.macs([TensorType(x.shape[1:])], TensorType(f.output.shape[1:])),
    )
    sections = [replace(s, title=f"{PER_SLICE}{s.title}") for s in derive(inner)]
    note = Section(
        "Time distributed",
        (
            f"the inner {op.layer.type} sees one slice {inner.inputs[0]} at a time and shares its "
            f"weights over the {n(x.shape[0])} slices of the first axis",
            f"MACs: {n(inner.macs)} per slice x {n(x.shape[0])} = {n(f.macs)}",
            f"output {f.output}",
        ),
    )
    return [note, *sections]
