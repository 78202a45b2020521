"""How Normalization counts its statistics (Keras's 2C + 1) and what it divides by."""

from __future__ import annotations

from specc.explain.facts import EXPLAINS, Facts, Section, Sections, no_macs, params_total
from specc.explain.formulas import n
from specc.ops.preprocess import Normalization


@EXPLAINS.register(Normalization)
def _normalization(f: Facts) -> Sections:
    c = f.inputs[0].channels
    return [
        Section(
            "Parameters",
            (
                f"mean and variance per channel, and the sample count: 2 x {n(c)} + 1 = "
                f"{n(params_total(f.params))}, none trainable (set by adapt())",
                "y = (x - mean) / max(sqrt(variance), 1e-7)",
            ),
        ),
        Section(f"Output {f.output}", ("the input's shape",)),
        no_macs(f, "after a convolution or dense layer it folds into that layer's weights"),
    ]
