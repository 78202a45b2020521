"""Dense layers on feature maps: they act on the last axis only."""

from __future__ import annotations

from collections.abc import Iterator

from specc.diagnostics import Severity
from specc.lint.registry import Context, Finding, rule


@rule(
    "W401",
    "dense-on-feature-map",
    Severity.WARNING,
    summary="A dense layer reads a tensor of rank 3 or more, so it acts on the last axis only.",
    why=(
        "dense multiplies the last axis by its kernel and keeps every other axis: on a (7, 7, 64) "
        "feature map it gives (7, 7, units), the same layer applied at every pixel, not one "
        "vector per sample. When a classifier head was meant, the flatten or global pooling in "
        "front of it has been forgotten. (A 1x1 convolution says 'per pixel' more clearly.)"
    ),
    bad=(
        "specc: 1\nname: head\ninputs: {features: [7, 7, 64]}\nlayers:\n"
        "  - {name: fc, type: dense, units: 10}\n"
    ),
    good=(
        "specc: 1\nname: head\ninputs: {features: [7, 7, 64]}\nlayers:\n"
        "  - {name: pool, type: global_avg_pool}\n  - {name: fc, type: dense, units: 10}\n"
    ),
)
def dense_on_feature_map(ctx: Context) -> Iterator[Finding]:
    for info in ctx.applied():
        x = info.inputs[0]
        if info.layer.type == "dense" and x.rank >= 3:
            message = (
                f"dense on a {x} input acts on the last axis only and gives {info.output}; "
                "add flatten or global_avg_pool before it for one vector per sample"
            )
            yield Finding(message, info.layer)
