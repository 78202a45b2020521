"""Plans, profiles and outputs as plain text tables and JSON (deterministic, no colour)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from specc.ir import format_shape
from specc.lower.program import Memory, Program
from specc.lower.steps import Step, Value
from specc.report.plain import table, wrap_text
from specc.units import format_bytes


def _where(step: Step) -> str:
    """Where a step writes: a reused buffer, over its input, a view, or a new array."""
    if step.mode in ("view", "in_place"):
        return step.mode.replace("_", " ")
    return _location(step.output)


def _location(value: Value) -> str:
    st = value.storage
    if st.kind == "arena":
        return f"buffer {st.slot}"
    return {"output": "output", "fresh": "new array", "input": "input"}[st.kind]


def _reads(step: Step) -> str:
    return ", ".join(v.name for v in step.inputs)


def _number(n: float) -> str:
    return f"{n:,.1f}" if n else "-"


def plan_text(program: Program, width: int | None = None) -> str:
    """The steps, one per line, then the peak memory and what it is made of; with `width`,
    cells and lines wrap at spaces to fit (never inside a number or a name)."""
    rows = [
        [
            str(s.index),
            s.kind,
            "+".join(s.layers),
            _reads(s),
            format_shape(s.output.shape),
            _number(s.flops / 1e6),
            format_bytes(s.traffic),
            _where(s),
            s.detail,
        ]
        for s in program.steps
    ]
    headers = [
        "#",
        "step",
        "layer",
        "reads",
        "output shape",
        "MFLOP",
        "traffic",
        "memory",
        "detail",
    ]
    total = sum(s.flops for s in program.steps)
    head = (
        f"plan of {program.model.name}: batch {program.batch}, {program.dtype}{_dims(program)}, "
        f"{len(program.steps)} steps, {total / 1e9:.3f} GFLOP"
    )
    steps = table(headers, rows, {0, 5, 6}, width, nowrap={0, 5, 6}, stack=3)
    tail = wrap_text("\n".join(memory_lines(program.memory)), width)
    return "\n".join([wrap_text(head, width), "", steps, "", tail])


def _dims(program: Program) -> str:
    return "".join(f", {k}={v}" for k, v in sorted(program.dims.items()))


def memory_lines(m: Memory) -> list[str]:
    b = format_bytes
    return [
        f"peak memory: {b(m.peak)}",
        f"  activations  {b(m.arena)} in reused buffers ({b(m.unshared)} without reuse)",
        f"  weights      {b(m.weights)} (batch norms folded)",
        f"  inputs       {b(m.inputs)}",
        f"  outputs and kernel temporaries  {b(m.dynamic)} at most at once",
        f"  workspace    {b(m.workspace)} (kernels' reusable buffers: patch tiles, padding)",
    ]


def plan_json(program: Program) -> dict[str, Any]:
    m = program.memory
    return {
        "model": program.model.name,
        "batch": program.batch,
        "dtype": str(program.dtype),
        "dims": dict(sorted(program.dims.items())),
        "flops": sum(s.flops for s in program.steps),
        "steps": [
            {
                "index": s.index,
                "kind": s.kind,
                "layers": list(s.layers),
                "inputs": [
                    {"name": v.name, "shape": list(v.shape), "memory": _location(v)}
                    for v in s.inputs
                ],
                "output": {
                    "name": s.output.name,
                    "shape": list(s.output.shape),
                    "memory": _location(s.output),
                },
                "memory": _where(s),
                "flops": s.flops,
                "bytes": s.traffic,
                "detail": s.detail,
            }
            for s in program.steps
        ],
        "memory": {
            "peak": m.peak,
            "activations": m.arena,
            "activations_without_reuse": m.unshared,
            "weights": m.weights,
            "inputs": m.inputs,
            "outputs_and_temporaries": m.dynamic,
            "workspace": m.workspace,
        },
    }


def profile_text(program: Program, seconds: Sequence[float]) -> str:
    """Each step's time, its GFLOP/s and its share of the total, slowest kinds summed at the end."""
    total = sum(seconds) or 1e-12
    rows = []
    for s, t in zip(program.steps, seconds, strict=True):
        rate = s.flops / t / 1e9 if t > 0 and s.flops else 0.0
        rows.append(
            [
                str(s.index),
                s.kind,
                "+".join(s.layers),
                format_shape(s.output.shape),
                f"{t * 1e3:.3f}",
                _number(rate),
                f"{100 * t / total:.1f}%",
            ]
        )
    headers = ["#", "step", "layer", "output shape", "ms", "GFLOP/s", "share"]
    by_kind: dict[str, float] = {}
    for s, t in zip(program.steps, seconds, strict=True):
        by_kind[s.kind] = by_kind.get(s.kind, 0.0) + t
    kinds = ", ".join(
        f"{k} {100 * t / total:.0f}%" for k, t in sorted(by_kind.items(), key=lambda kv: -kv[1])
    )
    flops = sum(s.flops for s in program.steps)
    tail = f"total {total * 1e3:.2f} ms, {flops / total / 1e9:.1f} GFLOP/s; by step kind: {kinds}"
    return "\n".join([table(headers, rows, {0, 4, 5, 6}), "", tail])


def output_lines(outputs: Mapping[str, NDArray]) -> list[str]:
    """One line per output: its name, shape, dtype and min / mean / max."""
    lines = []
    for name, a in outputs.items():
        if a.size:
            stats = f"min {a.min():.6g}  mean {a.mean(dtype=np.float64):.6g}  max {a.max():.6g}"
        else:
            stats = "empty"
        lines.append(f"{name}: shape {format_shape(a.shape)} {a.dtype}  {stats}")
    return lines
