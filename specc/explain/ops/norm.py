"""How batch normalisation counts its vectors, and why it costs nothing at inference."""

from __future__ import annotations

from specc.explain.facts import EXPLAINS, Facts, Section, Sections, no_macs, params_total
from specc.explain.formulas import n
from specc.ops.norm import BatchNorm


@EXPLAINS.register(BatchNorm)
def _batch_norm(f: Facts) -> Sections:
    c = f.inputs[0].channels
    count = len(f.params)
    trainable = ", ".join(p.name for p in f.params if p.trainable) or "none"
    frozen = ", ".join(p.name for p in f.params if not p.trainable)
    return [
        Section(
            "Parameters",
            (
                f"{count} vectors of one value per channel: {count} x {n(c)} = "
                f"{n(params_total(f.params))}",
                f"trainable: {trainable}; not trainable: {frozen} (running statistics, "
                "updated by averaging rather than by gradients)",
            ),
        ),
        Section(f"Output {f.output}", ("the input's shape",)),
        no_macs(f, "at inference it folds into the preceding convolution's weights"),
    ]
