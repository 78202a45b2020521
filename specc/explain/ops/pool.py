"""How pooling windows and global pooling shape their output."""

from __future__ import annotations

from specc.explain.facts import EXPLAINS, Facts, Section, Sections, no_macs, taps, window_outputs
from specc.explain.formulas import n
from specc.ops.pool import GlobalPool, Pool


@EXPLAINS.register(Pool)
def _pool(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, Pool)
    what = "the maximum" if op.kind == "max" else "the average"
    return [
        Section("Window", (f"{what} over each {taps(op.kernel_size)} window of each channel",)),
        window_outputs(f, op, f"channels: {n(f.inputs[0].channels)}, unchanged"),
        no_macs(f, "comparisons and sums are not multiply-adds"),
    ]


@EXPLAINS.register(GlobalPool)
def _global_pool(f: Facts) -> Sections:
    op, x = f.op, f.inputs[0]
    assert isinstance(op, GlobalPool)
    kept = ", kept as an axis of 1 (keepdims)" if op.keepdims else ""
    return [
        Section(
            f"Output {f.output}", (f"every spatial axis of {x} is reduced to one value{kept}",)
        ),
        no_macs(f, "a reduction, not a multiply-add"),
    ]
