"""The shape report as plain data: one row per layer and the totals (no rendering here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from specc.assume import Assumption
from specc.dims import Dim, format_count, format_dim, substitute
from specc.ir import FLOAT32_BYTES, format_shape
from specc.passes.costs import Congruence, Costs, Field, MinBound, Unchecked, measure
from specc.passes.shapes import Shapes

Layout = Literal["keras", "torch"]
Trainable = bool | Literal["partial"] | None  # None: the layer has no weights

# Report columns, in their fixed display order (torchinfo's col_names, as names).
COLUMNS = (
    "name",
    "type",
    "inputs",
    "output",
    "kernel",
    "params",
    "trainable",
    "macs",
    "flops",
    "memory",
    "rf",
)
DEFAULT_COLUMNS = ("name", "type", "inputs", "output", "kernel", "params")

CONVENTIONS = {
    "macs": "1 MAC = one multiply plus one add; FLOPs = 2 x MACs; only convolutions, dense, "
    "recurrent and attention layers count (batch norm, activations, pooling, merges and "
    "reshapes are 0; biases too)",
    "memory": "activation memory = output elements x 4 bytes (float32); the peak counts every "
    "tensor from the layer that makes it to its last reader, in spec order",
    "receptive_field": "per spatial axis, in input pixels: size = extent one output reads, "
    "jump = distance between neighbouring outputs; largest over paths where branches meet",
}


def parse_columns(text: str) -> tuple[str, ...]:
    """`name,type,macs` -> the columns in display order; ValueError names unknown ones."""
    wanted = [c.strip().lower() for c in text.split(",") if c.strip()]
    unknown = [c for c in wanted if c not in COLUMNS]
    if unknown or not wanted:
        bad = ", ".join(unknown) if unknown else "(none given)"
        raise ValueError(f"unknown column {bad}; choose from {', '.join(COLUMNS)}")
    return tuple(c for c in COLUMNS if c in wanted)


@dataclass(frozen=True)
class Row:
    name: str
    type: str
    inputs: tuple[str, ...]
    show_inputs: bool  # the spec wrote `inputs:`, or the layer merges several
    output_shape: tuple[Dim, ...]
    kernel_shape: tuple[Dim, ...] | None
    param_shapes: tuple[tuple[str, tuple[Dim, ...], bool], ...]  # (name, shape, trainable)
    params: Dim
    trainable_params: Dim
    macs: Dim = 0  # for the whole batch
    memory: Dim = 0  # output activation bytes for the whole batch
    field: Field = ()
    buffers: Dim = 0  # elements of the arrays PyTorch keeps as buffers (torch layout only)
    buffer_names: tuple[str, ...] = ()

    @property
    def flops(self) -> Dim:
        return self.macs * 2

    @property
    def trainable(self) -> Trainable:
        """True or False when every parameter is (not) trainable, "partial" when mixed."""
        flags = {t for n, _, t in self.param_shapes if n not in self.buffer_names}
        if not flags:
            return None
        return flags.pop() if len(flags) == 1 else "partial"


@dataclass(frozen=True)
class Summary:
    name: str
    layout: Layout
    inputs: tuple[tuple[str, tuple[Dim, ...]], ...]
    rows: tuple[Row, ...]
    outputs: tuple[str, ...]
    params: Dim
    trainable_params: Dim
    buffers: Dim = 0  # torch layout: batch-norm running statistics, which are not parameters
    macs: Dim = 0
    peak: tuple[Dim, ...] = ()  # max() of these; one value when it is known
    peak_at: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (layer, live tensors) per candidate
    batch: int = 1
    dims: tuple[tuple[str, int], ...] = ()  # symbol values the report was evaluated at
    assumed: tuple[Assumption, ...] = ()  # the spec's `assume:` entries on unbound symbols
    bounds: tuple[MinBound, ...] = ()
    congruences: tuple[Congruence, ...] = ()
    unchecked: tuple[Unchecked, ...] = ()
    input_dtypes: tuple[tuple[str, str], ...] = ()  # the inputs that are not float32

    @property
    def non_trainable_params(self) -> Dim:
        return self.params - self.trainable_params

    @property
    def weight_bytes(self) -> Dim:
        """Every stored array: the parameters and the buffers."""
        return (self.params + self.buffers) * FLOAT32_BYTES

    @property
    def flops(self) -> Dim:
        return self.macs * 2

    @property
    def activation_bytes(self) -> Dim:
        total: Dim = 0
        for row in self.rows:
            total = total + row.memory
        return total


def summarize(
    shapes: Shapes,
    layout: Layout = "keras",
    *,
    dims: Mapping[str, int] | None = None,
    batch: int = 1,
    costs: Costs | None = None,
) -> Summary:
    """Rows for every layer whose shapes are known, in spec order.

    `dims` binds symbols (every number is evaluated with them); MACs and memory are per
    sample times `batch`. With the torch layout, arrays that are not trainable (batch-norm
    running mean and variance) are buffers, not parameters, as PyTorch and torchinfo count
    them.
    """
    env = dict(dims or {})
    costs = costs or measure(shapes)

    def ev(d: Dim) -> Dim:
        return substitute(d, env)

    def evs(shape: tuple[Dim, ...]) -> tuple[Dim, ...]:
        return tuple(ev(d) for d in shape)

    rows = []
    for layer in shapes.model.layers:
        info = shapes.layers.get(layer.name)
        if info is None:
            continue
        pshapes = tuple(
            (p.name, evs(p.layout_torch if layout == "torch" else p.shape), p.trainable)
            for p in info.params
        )
        kernel = next((s for n, s, _ in pshapes if n == "kernel"), None)
        cost = costs.layers[layer.name]
        learned = ev(info.trainable_count)
        count = learned if layout == "torch" else ev(info.param_count)
        buffers = tuple(p.name for p in info.params if layout == "torch" and not p.trainable)
        rows.append(
            Row(
                name=layer.name,
                type=layer.type,
                inputs=layer.inputs,
                show_inputs=layer.explicit_inputs or len(layer.inputs) > 1,
                output_shape=evs(info.output.shape),
                kernel_shape=kernel,
                param_shapes=pshapes,
                params=count,
                trainable_params=learned,
                macs=ev(cost.macs) * batch,
                memory=ev(cost.memory) * batch,
                field=cost.field,
                buffers=ev(info.param_count) - count,
                buffer_names=buffers,
            )
        )
    total: Dim = 0
    trainable: Dim = 0
    buffered: Dim = 0
    macs: Dim = 0
    for row in rows:
        total, trainable = total + row.params, trainable + row.trainable_params
        buffered, macs = buffered + row.buffers, macs + row.macs
    return Summary(
        name=shapes.model.name,
        layout=layout,
        inputs=tuple((x.name, evs(x.type.shape)) for x in shapes.model.inputs),
        input_dtypes=tuple((x.name, x.dtype) for x in shapes.model.inputs if x.integer),
        rows=tuple(rows),
        outputs=shapes.model.outputs,
        params=total,
        trainable_params=trainable,
        buffers=buffered,
        macs=macs,
        peak=_peak(costs, env, batch),
        peak_at=tuple((s.layer, s.live) for s in costs.peak.candidates) if costs.peak else (),
        batch=batch,
        dims=tuple(sorted(env.items())),
        assumed=tuple(a for a in shapes.model.assume.entries if a.symbol not in env),
        bounds=tuple(b for n, b in sorted(costs.bounds.items()) if n not in env),
        congruences=tuple(c for c in costs.congruences if c.symbol not in env),
        unchecked=tuple(u for u in costs.unchecked if not isinstance(substitute(u.dim, env), int)),
    )


def _peak(costs: Costs, env: Mapping[str, int], batch: int) -> tuple[Dim, ...]:
    if costs.peak is None:
        return ()
    value = costs.peak.value(env)
    if value is not None:
        return (value * batch,)
    return tuple(substitute(c.bytes, env) * batch for c in costs.peak.candidates)


# -- JSON -------------------------------------------------------------------------------------


def dim_json(d: Dim) -> int | str:
    """Ints stay ints; symbolic dims become their canonical text."""
    return d if isinstance(d, int) else format_dim(d)


def shape_json(shape: tuple[Dim, ...] | None) -> list[int | str] | None:
    return None if shape is None else [dim_json(d) for d in shape]


def fraction_json(x: int | Fraction) -> int | str:
    """3 -> 3, 3/2 -> "3/2": exact, and an int whenever it is one."""
    return x.numerator if x.denominator == 1 else str(x)


def field_json(f: Field) -> dict[str, object] | str | None:
    if isinstance(f, str):
        return "global" if f == "global" else None
    if not f:
        return None
    return {"size": [fraction_json(a.size) for a in f], "jump": [fraction_json(a.jump) for a in f]}


def peak_json(summary: Summary) -> int | str | None:
    if not summary.peak:
        return None
    return dim_json(summary.peak[0]) if len(summary.peak) == 1 else fmt_max(summary.peak)


def to_json(summary: Summary) -> dict[str, object]:
    """The machine-readable report (`specc report --format json`); schemas/report.schema.json."""
    return {
        "name": summary.name,
        "layout": summary.layout,
        "batch": summary.batch,
        "dims": dict(summary.dims),
        "inputs": {name: shape_json(shape) for name, shape in summary.inputs},
        **({"input_dtypes": dict(summary.input_dtypes)} if summary.input_dtypes else {}),
        "outputs": list(summary.outputs),
        "layers": [
            {
                "name": r.name,
                "type": r.type,
                "inputs": list(r.inputs),
                "output_shape": shape_json(r.output_shape),
                "kernel_shape": shape_json(r.kernel_shape),
                "weights": {n: shape_json(s) for n, s, _ in r.param_shapes},
                "params": dim_json(r.params),
                "trainable_params": dim_json(r.trainable_params),
                "trainable": r.trainable,
                "buffers": dim_json(r.buffers),
                "macs": dim_json(r.macs),
                "flops": dim_json(r.flops),
                "activation_bytes": dim_json(r.memory),
                "receptive_field": field_json(r.field),
            }
            for r in summary.rows
        ],
        "totals": {
            "params": dim_json(summary.params),
            "trainable_params": dim_json(summary.trainable_params),
            "non_trainable_params": dim_json(summary.non_trainable_params),
            "buffers": dim_json(summary.buffers),
            "weight_bytes": dim_json(summary.weight_bytes),
            "macs": dim_json(summary.macs),
            "flops": dim_json(summary.flops),
            "activation_bytes": dim_json(summary.activation_bytes),
            "peak_activation_bytes": peak_json(summary),
            "peak_at": [{"layer": layer, "live": list(live)} for layer, live in summary.peak_at],
        },
        "constraints": constraints_json(summary),
        "conventions": dict(CONVENTIONS),
    }


def constraints_json(summary: Summary) -> list[dict[str, object]]:
    out: list[dict[str, object]] = [
        {"kind": "assumed", "symbol": a.symbol, "assumption": str(a)} for a in summary.assumed
    ]
    for b in summary.bounds:
        out.append(
            {"kind": "min", "symbol": b.symbol, "value": b.value, "where": b.where,
             "axis": b.axis, "dim": dim_json(b.dim)}
        )  # fmt: skip
    for c in summary.congruences:
        out.append(
            {"kind": "congruence", "symbol": c.symbol, "modulus": c.modulus,
             "residues": list(c.residues), "where": c.where}
        )  # fmt: skip
    for u in summary.unchecked:
        out.append({"kind": "unchecked", "where": u.where, "axis": u.axis, "dim": dim_json(u.dim)})
    return out


# -- text helpers -----------------------------------------------------------------------------


def fmt_si(d: Dim) -> str:
    """1818558976 -> '1.82 G'; small counts and expressions as format_count."""
    if not isinstance(d, int) or abs(d) < 10_000:
        return format_count(d)
    value = float(d)
    for unit in ("k", "M", "G", "T"):
        value /= 1000
        if abs(value) < 1000 or unit == "T":
            return f"{value:,.2f} {unit}"
    raise AssertionError("unreachable")


def fmt_max(values: tuple[Dim, ...]) -> str:
    return "max(" + ", ".join(format_dim(v) for v in values) + ")"


def fmt_shape(shape: tuple[Dim, ...] | None) -> str:
    return "-" if shape is None else format_shape(shape)


def fmt_fraction(x: int | Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def fmt_field(f: Field) -> str:
    """`17x17 jump 1x1`, `whole input`, `?` when not computed, or `-` when positions were
    folded away."""
    if f == "global":
        return "whole input"
    if f == "unknown":
        return "?"
    if isinstance(f, str) or not f:
        return "-"
    # Fractions (after upsampling) get spaces so that 1/2x1/2 does not read as one number.
    sep = "x" if all(a.jump.denominator == 1 for a in f) else " x "
    sizes = sep.join(fmt_fraction(a.size) for a in f)
    jumps = sep.join(fmt_fraction(a.jump) for a in f)
    return f"{sizes} jump {jumps}"


def fmt_trainable(t: Trainable) -> str:
    return {True: "yes", False: "no", "partial": "partial", None: "-"}[t]
