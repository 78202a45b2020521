"""How an embedding gets its numbers: a table of one row per index."""

from __future__ import annotations

from specc.explain.facts import EXPLAINS, Facts, Section, Sections, no_macs, params_total
from specc.explain.formulas import n
from specc.ops.embedding import Embedding


@EXPLAINS.register(Embedding)
def _embedding(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, Embedding)
    d, v = op.output_dim, op.input_dim
    return [
        Section(
            f"Table ({v}, {d})",
            (
                f"one row of {d} values for each of the {v} indices 0 ... {v - 1}",
                "initialised uniform in [-0.05, 0.05] (Keras's default)",
            ),
        ),
        Section("Parameters", (f"{v} x {d} = {n(params_total(f.params))}",)),
        Section(f"Output {f.output}", (f"each index of {f.inputs[0]} becomes its row of {d}",)),
        no_macs(f, "a lookup copies rows"),
    ]
