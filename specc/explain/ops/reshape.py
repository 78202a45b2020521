"""How flatten folds every axis into one."""

from __future__ import annotations

from specc.dims import product
from specc.explain.facts import EXPLAINS, Facts, Section, Sections, no_macs
from specc.explain.formulas import n, times
from specc.ops.reshape import Flatten


@EXPLAINS.register(Flatten)
def _flatten(f: Facts) -> Sections:
    x = f.inputs[0]
    return [
        Section(
            f"Output {f.output}", (f"{times(x.shape)} = {n(product(x.shape))} values in one axis",)
        ),
        no_macs(f, "values are only moved"),
    ]
