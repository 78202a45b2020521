"""How flatten folds every axis into one, how permute orders axes and how upsampling makes cells."""

from __future__ import annotations

from specc.dims import product
from specc.explain.facts import EXPLAINS, Facts, Section, Sections, no_macs
from specc.explain.formulas import axis_name, n, times
from specc.ops.reshape import Flatten, Permute, Upsample


@EXPLAINS.register(Flatten)
def _flatten(f: Facts) -> Sections:
    x = f.inputs[0]
    return [
        Section(
            f"Output {f.output}", (f"{times(x.shape)} = {n(product(x.shape))} values in one axis",)
        ),
        no_macs(f, "values are only moved"),
    ]


@EXPLAINS.register(Permute)
def _permute(f: Facts) -> Sections:
    op, x = f.op, f.inputs[0]
    assert isinstance(op, Permute)
    lines = tuple(
        f"axis {i}: input axis {a} ({n(x.shape[a])}), Keras's dim {a + 1}"
        for i, a in enumerate(op.perm)
    )
    return [Section(f"Output {f.output}", lines), no_macs(f, "values are only moved")]


@EXPLAINS.register(Upsample)
def _upsample(f: Facts) -> Sections:
    op, x = f.op, f.inputs[0]
    assert isinstance(op, Upsample)
    lines = [
        f"{axis_name(i, len(op.factors))}: {n(d)} x {k} = {n(d * k)}"
        for i, (d, k) in enumerate(zip(x.spatial, op.factors, strict=True))
    ]
    if op.mode() == "bilinear":
        how = (
            "each output cell o sits at input coordinate c = (o + 1/2) / size - 1/2 per axis "
            "(half-pixel centres) and is (1 - t) * x[i] + t * x[i + 1], i = floor(c), t = c - i, "
            "indices clamped to the axis"
        )
    else:
        how = "each input cell is repeated size times per axis (nearest neighbour)"
    return [
        Section(f"Output {f.output}", (*lines, how)),
        no_macs(
            f,
            "interpolation weights are not learnt"
            if op.mode() == "bilinear"
            else "values are only copied",
        ),
    ]
