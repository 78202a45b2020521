"""How lstm, gru and bidirectional get their numbers: gate blocks, the parameter formula and
the multiply-adds of every step."""

from __future__ import annotations

from dataclasses import replace

from specc.dims import Dim
from specc.explain.facts import EXPLAINS, Facts, Section, Sections, cost, params_total
from specc.explain.formulas import n, term
from specc.ir import format_shape
from specc.ops.recurrent import GRU, LSTM, Bidirectional, Recurrent

GATES = {
    "lstm": "i, f, c, o (input, forget, cell, output)",
    "gru": "z, r, h (update, reset, candidate)",
}


def _param_formula(op: Recurrent, c: Dim) -> str:
    """`4 x (64 x (80 + 64) + 64)`: per gate, u x (in + u) weights and the bias values."""
    g, u = op.gates, op.units
    weights = f"{u} x ({term(c)} + {u})"
    if not op.bias:
        return f"{g} x {weights}"
    two = isinstance(op, GRU) and op.reset_after
    return f"{g} x ({weights} + {'2 x ' if two else ''}{u})"


def _recurrent_sections(f: Facts, op: Recurrent, prefix: str = "", copies: int = 1) -> Sections:
    x = f.inputs[0]
    steps, c = x.shape
    g, u = op.gates, op.units
    shapes = ", ".join(f"{p.name} {format_shape(p.shape)}" for p in op.params(f.inputs))
    lines = [
        shapes if copies == 1 else f"forward_* and backward_* each: {shapes}",
        f"{g} gate blocks of {u} columns each, in Keras's order {GATES[op.type]}",
        f"kernel: the {n(c)} input features to every gate; recurrent_kernel: the {u} state "
        "values to every gate",
    ]
    if isinstance(op, GRU):
        lines.append(
            "reset_after: bias row 0 is added to x W, row 1 to h U, and the reset gate "
            "multiplies h U_h + b'_h (Keras 3, cuDNN)"
            if op.reset_after
            else "reset before: the reset gate multiplies h before h meets U_h; one bias"
        )
    if isinstance(op, LSTM) and op.bias:
        lines.append("the forget gate's bias starts at 1 (Keras's unit_forget_bias)")
    formula = _param_formula(op, c)
    total = params_total(f.params)
    count = f"{copies} x {formula} = {n(total)}" if copies > 1 else f"{formula} = {n(total)}"
    output = (
        f"every step's state (return_sequences): {n(steps)} steps x {u} units"
        if op.return_sequences
        else f"the state after the last of the {n(steps)} steps ({u} units)"
    )
    macs = f"{term(steps)} steps x {g} x {u} x ({term(c)} + {u})"
    return [
        Section(f"{prefix}Weights", tuple(lines)),
        Section("Parameters", (count,)),
        Section(f"{prefix}Output", (output,)),
        cost(f, f"{copies} directions x {macs}" if copies > 1 else macs),
    ]


@EXPLAINS.register(LSTM, GRU)
def _recurrent(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, Recurrent)
    sections = _recurrent_sections(f, op)
    out = sections[2]
    return [*sections[:2], replace(out, title=f"Output {f.output}"), sections[3]]


@EXPLAINS.register(Bidirectional)
def _bidirectional(f: Facts) -> Sections:
    op = f.op
    assert isinstance(op, Bidirectional)
    inner = op.layer
    weights, params, each, costs = _recurrent_sections(f, inner, "Per direction: ", 2)
    merge = {
        "concat": f"the forward and the backward outputs side by side: {inner.units} x 2 = "
        f"{2 * inner.units} on the last axis",
        "sum": "forward + backward",
        "mul": "forward x backward",
        "ave": "(forward + backward) / 2",
    }[op.merge_mode]
    note = Section(
        "Bidirectional",
        (
            f"the {inner.type} runs forward, and a copy with weights of its own (forward_* and "
            "backward_*) runs from the last step to the first",
            "with return_sequences, the backward outputs are put back in time order (Keras)",
            f"merge_mode {op.merge_mode}: {merge}",
        ),
    )
    return [note, weights, params, each, Section(f"Output {f.output}", (merge,)), costs]
