"""How the normalisations count their parameters, what their statistics span, and why they
cost no MACs."""

from __future__ import annotations

from specc.dims import exact_div, product
from specc.explain.facts import EXPLAINS, Facts, Section, Sections, no_macs, params_total
from specc.explain.formulas import n
from specc.ops.norm import BatchNorm, GroupNorm, LayerNorm, Scale


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


def _learned(f: Facts, per: str) -> str:
    """`2 x 64 = 128` for gamma and beta of `per` values each (or the one there is)."""
    names = " and ".join(p.name for p in f.params) or "none"
    if not f.params:
        return "no parameters (center and scale are off)"
    return f"{names}, {len(f.params)} x {per} = {n(params_total(f.params))}"


@EXPLAINS.register(LayerNorm)
def _layer_norm(f: Facts) -> Sections:
    assert isinstance(f.op, LayerNorm)
    x = f.inputs[0]
    axes = f.op.axes(x.rank)
    sizes = [x.shape[a] for a in axes]
    spans = " x ".join(n(d) for d in sizes)
    return [
        Section(
            "Statistics",
            (
                f"mean and variance of each sample over axes {list(axes)}: {spans} = "
                f"{n(product(sizes))} values each, computed at inference too",
                f"y = (x - mean) / sqrt(variance + {f.op.epsilon:g}) * gamma + beta",
            ),
        ),
        Section("Parameters", (_learned(f, f"({spans})"),)),
        Section(f"Output {f.output}", ("the input's shape",)),
        no_macs(f, "per-sample statistics, then a scale and shift"),
    ]


@EXPLAINS.register(GroupNorm)
def _group_norm(f: Facts) -> Sections:
    assert isinstance(f.op, GroupNorm)
    x = f.inputs[0]
    c, g = x.channels, f.op.groups
    per = exact_div(c, g)
    assert per is not None
    span = [*x.spatial, per]
    return [
        Section(
            "Statistics",
            (
                f"{n(c)} channels in {g} groups of {n(c)} / {g} = {n(per)}",
                f"mean and variance of each sample and group over "
                f"{' x '.join(n(d) for d in span)} = {n(product(span))} values",
            ),
        ),
        Section("Parameters", (_learned(f, f"{n(c)} channels"),)),
        Section(f"Output {f.output}", ("the input's shape",)),
        no_macs(f, "per-group statistics, then a scale and shift per channel"),
    ]


@EXPLAINS.register(Scale)
def _scale(f: Facts) -> Sections:
    assert isinstance(f.op, Scale)
    c = f.inputs[0].channels
    return [
        Section(
            "Parameters",
            (f"gamma, one multiplier per channel: {n(c)}, each starting at {f.op.init_value:g}",),
        ),
        Section(f"Output {f.output}", ("the input's shape",)),
        no_macs(f, "after a convolution or dense layer it folds into that layer's weights"),
    ]
