"""The shape report as plain data: one row per layer and the totals (no rendering here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from specc.dims import Dim, format_dim
from specc.ir import format_shape
from specc.passes.shapes import Shapes

Layout = Literal["keras", "torch"]
BYTES_PER_PARAM = 4  # float32, as Keras and PyTorch store weights by default


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


@dataclass(frozen=True)
class Summary:
    name: str
    layout: Layout
    inputs: tuple[tuple[str, tuple[Dim, ...]], ...]
    rows: tuple[Row, ...]
    outputs: tuple[str, ...]
    params: Dim
    trainable_params: Dim

    @property
    def non_trainable_params(self) -> Dim:
        return self.params - self.trainable_params

    @property
    def weight_bytes(self) -> Dim:
        return self.params * BYTES_PER_PARAM


def summarize(shapes: Shapes, layout: Layout = "keras") -> Summary:
    """Rows for every layer whose shapes are known, in spec order."""
    rows = []
    for layer in shapes.model.layers:
        info = shapes.layers.get(layer.name)
        if info is None:
            continue
        pshapes = tuple(
            (p.name, p.layout_torch if layout == "torch" else p.shape, p.trainable) for p in info.params
        )
        kernel = next((s for n, s, _ in pshapes if n == "kernel"), None)
        rows.append(
            Row(
                name=layer.name,
                type=layer.type,
                inputs=layer.inputs,
                show_inputs=layer.explicit_inputs or len(layer.inputs) > 1,
                output_shape=info.output.shape,
                kernel_shape=kernel,
                param_shapes=pshapes,
                params=info.param_count,
                trainable_params=info.trainable_count,
            )
        )
    total: Dim = 0
    trainable: Dim = 0
    for row in rows:
        total, trainable = total + row.params, trainable + row.trainable_params
    return Summary(
        name=shapes.model.name,
        layout=layout,
        inputs=tuple((x.name, x.type.shape) for x in shapes.model.inputs),
        rows=tuple(rows),
        outputs=shapes.model.outputs,
        params=total,
        trainable_params=trainable,
    )


def dim_json(d: Dim) -> int | str:
    """Ints stay ints; symbolic dims become their canonical text."""
    return d if isinstance(d, int) else format_dim(d)


def shape_json(shape: tuple[Dim, ...] | None) -> list[int | str] | None:
    return None if shape is None else [dim_json(d) for d in shape]


def to_json(summary: Summary) -> dict[str, object]:
    """The machine-readable report (`specc report --format json`)."""
    return {
        "name": summary.name,
        "layout": summary.layout,
        "inputs": {name: shape_json(shape) for name, shape in summary.inputs},
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
            }
            for r in summary.rows
        ],
        "totals": {
            "params": dim_json(summary.params),
            "trainable_params": dim_json(summary.trainable_params),
            "non_trainable_params": dim_json(summary.non_trainable_params),
            "weight_bytes": dim_json(summary.weight_bytes),
        },
    }


def fmt_count(d: Dim) -> str:
    """6288 -> '6,288'; symbolic counts as their expression."""
    return f"{d:,}" if isinstance(d, int) else format_dim(d)


def fmt_bytes(d: Dim) -> str:
    if not isinstance(d, int):
        return f"{format_dim(d)} B"
    value = float(d)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.2f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def fmt_shape(shape: tuple[Dim, ...] | None) -> str:
    return "-" if shape is None else format_shape(shape)
