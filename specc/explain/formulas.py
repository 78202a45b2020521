"""Formulas filled in with numbers: products, window axis lengths and receptive fields."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

from specc.dims import Dim, format_count, format_dim
from specc.ops.base import AxisStep, Footprint, KeepAxes
from specc.ops.common import Pads
from specc.ops.window import effective, same_pads, window_out
from specc.passes.congruence import MAX_PERIOD
from specc.passes.costs import AxisField, AxisMap, State, field_of
from specc.report.summary import fmt_field, fmt_fraction
from specc.units import format_bytes

AXIS_NAMES = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def n(d: Dim) -> str:
    """6288 -> '6,288'; an expression as itself."""
    return format_count(d)


def term(d: Dim) -> str:
    """A factor inside a product: a sum or difference gets parentheses, `ceil(T/2)` does not."""
    text = format_dim(d)
    depth = 0
    for i, c in enumerate(text):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth == 0 and c in "+-" and i > 0:
            return f"({text})"
    return text


def times(dims: Iterable[Dim]) -> str:
    """(85, 85, 16) -> '85 x 85 x 16'."""
    return " x ".join(term(d) for d in dims) or "1"


def axis_name(axis: int, spatial: int) -> str:
    names = AXIS_NAMES.get(spatial)
    return f"axis {axis} ({names[axis]})" if names else f"axis {axis}"


def window_axis(size: Dim, k: int, s: int, d: int, pads: Pads, axis: int) -> str:
    """How one output length follows from the input length, e.g.
    'floor((91 + 0 + 0 - 7) / 1) + 1 = 85'."""
    eff = effective(k, d)
    kernel = f"kernel {k}" if d == 1 else f"kernel {k} dilated by {d}: {d} x ({k} - 1) + 1 = {eff}"
    if pads == "same":
        out = window_out(size, k, s, d, "same")
        where = ""
        if isinstance(size, int):
            before, after = same_pads(size, k, s, d)
            where = f", padding {before} before and {after} after"
        return f"same: ceil({term(size)} / {s}) = {n(out)}  ({kernel}, stride {s}{where})"
    before, after = pads[axis]
    out = window_out(size, k, s, d, (before, after))
    formula = f"floor(({term(size)} + {before} + {after} - {eff}) / {s}) + 1 = {n(out)}"
    return f"{formula}  (padding {before} before, {after} after; {kernel}; stride {s})"


def transpose_axis(size: Dim, k: int, s: int, padding: str, out: Dim, d: int = 1) -> str:
    """One transposed-convolution output length; a dilated kernel counts its extent."""
    eff = effective(k, d)
    kernel = f"kernel {k}" if d == 1 else f"kernel {k} dilated by {d}: extent {eff}"
    if padding == "same":
        return f"same: {term(size)} x {s} = {n(out)}  ({kernel}, stride {s})"
    return (
        f"valid: {term(size)} x {s} + max({eff} - {s}, 0) = {n(out)}  "
        f"(each of the {term(size)} inputs paints {eff} outputs, {s} apart)"
    )


def memory_line(elements: Sequence[Dim], total: Dim) -> str:
    short = format_bytes(total)
    size = f"{n(total)} B" + (f" ({short})" if isinstance(total, int) and total >= 1024 else "")
    return f"{times(elements)} x 4 B = {size} per sample (float32)"


# -- receptive fields -------------------------------------------------------------------------


def _f(x: int | Fraction) -> str:
    return fmt_fraction(x)


def field_lines(
    footprint: Footprint, inputs: Sequence[tuple[str, State]], out: State, spatial: int
) -> list[str]:
    """The receptive-field recurrence of one layer, axis by axis."""
    field = field_of(out)
    if field == "global":
        return ["every output reads the whole input"]
    if field == "flat":
        return ["no spatial axes left: positions were folded together"]
    if field == "unknown":
        return [
            "not computed: after these upsamplings the pixels an output reads repeat their "
            f"pattern only every more than {MAX_PERIOD:,} positions"
        ]
    if not field:
        return ["no spatial axes: the input is a vector"]
    if len(inputs) > 1:
        listed = "; ".join(f"{name} {fmt_field(field_of(s))}" for name, s in inputs)
        return [f"largest over the merged paths ({listed}): {fmt_field(field)}"]
    source, before = inputs[0]
    if footprint in ("same", "dense") or isinstance(footprint, KeepAxes):
        return [f"{fmt_field(field)}, as {source}'s: this layer keeps positions"]
    assert isinstance(footprint, tuple) and isinstance(before, tuple) and isinstance(out, tuple)
    return [
        f"{axis_name(i, spatial)}: {_step_text(maps, step, after)}"
        for i, (maps, step, after) in enumerate(zip(before, footprint, field, strict=True))
    ]


def _step_text(before: frozenset[AxisMap], step: AxisStep, after: AxisField) -> str:
    (first, *rest) = before
    if rest:
        return (
            f"size {after.size}, jump {_f(after.jump)}: the largest over the "
            f"{len(before)} paths that reach this layer"
        )
    r, j = first.size, first.jump
    if step.up == 1 and first.period == 1:
        size = f"{r} + ({step.span} - 1) x {_f(j)} = {after.size}"
        return f"size {size}; jump {_f(j)} x {step.stride} = {_f(after.jump)}"
    if step.up == 1:
        how = f"a {step.span}-wide window over positions that repeat input pixels"
    else:
        reads = -(-step.kernel // step.up)
        how = f"each output reads at most {reads} input position{'s' if reads != 1 else ''}"
    jump = f"{_f(j)} x {step.stride}" if step.up == 1 else f"{_f(j)} / {step.up}"
    if step.up != 1 and step.stride != 1:
        jump = f"{_f(j)} x {step.stride} / {step.up}"
    return f"size {after.size}, counted exactly ({how}); jump {jump} = {_f(after.jump)} on average"
