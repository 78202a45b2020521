"""`specc explain`: where every number of a layer comes from, in plain words and numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from specc.dims import Dim, substitute
from specc.explain.facts import PER_SLICE, Facts, Section, derive
from specc.explain.formulas import field_lines, n
from specc.ir import Layer, TensorType
from specc.passes.costs import Costs
from specc.passes.shapes import Shapes, infer
from specc.report.summary import fmt_field, fmt_max, fmt_si
from specc.units import format_bytes

__all__ = ["Section", "bind", "explain_layer", "explain_model", "render"]


def bind(shapes: Shapes, dims: Mapping[str, int]) -> Shapes:
    """The shapes inferred again with symbols bound to values, so that every formula shows
    numbers (`--dim T=1000`); the same shapes, not inferred again, when there are no values."""
    if not dims:
        return shapes
    model = shapes.model
    inputs = tuple(
        replace(x, type=TensorType(tuple(substitute(d, dims) for d in x.type.shape)))
        for x in model.inputs
    )
    return infer(replace(model, inputs=inputs))


def _facts(costs: Costs, layer: Layer) -> Facts:
    info = costs.shapes.layers[layer.name]
    cost = costs.layers[layer.name]
    return Facts(layer, layer.op, info.inputs, info.output, info.params, cost.macs, cost.field)


def _source(costs: Costs, name: str) -> str:
    model = costs.shapes.model
    layer = model.layer(name)
    return "the model input" if layer is None else f"the output of {name} ({layer.type})"


def _inputs(costs: Costs, f: Facts) -> Section:
    pairs = zip(f.layer.inputs, f.inputs, strict=True)
    lines = [f"{name} -> {t}: {_source(costs, name)}" for name, t in pairs]
    if len(f.inputs) == 1 and f.inputs[0].rank > 1 and f.params:
        lines.append(f"C_in = {n(f.inputs[0].channels)} (channels are the last axis)")
    return Section("Input" if len(f.inputs) == 1 else "Inputs", tuple(lines))


def _receptive(costs: Costs, f: Facts) -> Section:
    ins = [(name, costs.states.get(name, "flat")) for name in f.layer.inputs]
    spatial = len(f.inputs[0].spatial)
    footprint = f.op.footprint(f.inputs, f.output)
    lines = field_lines(footprint, ins, costs.states[f.layer.name], spatial)
    return Section("Receptive field (input pixels)", tuple(lines))


def explain_layer(costs: Costs, name: str) -> list[Section]:
    """Every section of one layer's derivation; KeyError when it has no inferred shapes."""
    layer = costs.shapes.model.layer(name)
    if layer is None or name not in costs.layers:
        raise KeyError(name)
    f = _facts(costs, layer)
    return [_inputs(costs, f), *derive(f), _receptive(costs, f)]


def _header(layer: Layer) -> str:
    summary = type(layer.op).summary
    where = f", line {layer.span.line}" if layer.span else ""
    return f"{layer.name}: {layer.type}{where}" + (f" -- {summary}" if summary else "")


def render(title: str, sections: list[Section]) -> str:
    lines = [title]
    for s in sections:
        lines += ["", s.title, *(f"  {line}" for line in s.lines)]
    return "\n".join(lines) + "\n"


def render_layer(costs: Costs, name: str) -> str:
    layer = costs.shapes.model.layer(name)
    assert layer is not None
    return render(_header(layer), explain_layer(costs, name))


def explain_model(costs: Costs) -> str:
    """Every layer compactly: shapes, kernel, parameter formula, MACs, memory, receptive field."""
    model = costs.shapes.model
    blocks = [f"{model.name}: {len(model.layers)} layers"]
    blocks.append("inputs: " + ", ".join(f"{x.name} {x.type}" for x in model.inputs))
    for layer in model.layers:
        if layer.name not in costs.layers:
            blocks.append(f"\n{layer.name} ({layer.type}): shapes unknown (see the errors above)")
            continue
        blocks.append("\n" + _compact(costs, layer))
    blocks.append("\n" + "\n".join(_totals(costs)))
    return "\n".join(blocks) + "\n"


def _compact(costs: Costs, layer: Layer) -> str:
    f = _facts(costs, layer)
    ins = ", ".join(f"{name} {t}" for name, t in zip(layer.inputs, f.inputs, strict=True))
    lines = [f"{layer.name} ({layer.type}): {ins} -> {f.output}"]
    sections = {s.title.removeprefix(PER_SLICE).split()[0]: s for s in derive(f)}
    if "Kernel" in sections:
        kernel = sections["Kernel"]
        sentence = kernel.lines[0].split(": ")[0]
        shape = kernel.title.removeprefix(PER_SLICE).split("  ")[0].removeprefix("Kernel ")
        lines.append(f"  kernel {shape}: {sentence}")
    if "Parameters" in sections:
        lines.append(f"  params {sections['Parameters'].lines[0]}")
    memory = format_bytes(costs.layers[layer.name].memory)
    lines.append(f"  MACs {n(f.macs)}; memory {memory}; receptive field {fmt_field(f.field)}")
    return "\n".join(lines)


def _totals(costs: Costs) -> list[str]:
    out = [
        f"total MACs {_with_si(costs.macs)}; FLOPs = 2 x MACs = {_with_si(costs.flops)}",
        "  (1 MAC = one multiply plus one add; only convolution, dense, recurrent and attention "
        "layers count)",
    ]
    if costs.peak is not None:
        values = tuple(c.bytes for c in costs.peak.candidates)
        peak = format_bytes(values[0]) if len(values) == 1 else fmt_max(values) + " B"
        where = ""
        if len(values) == 1:
            step = costs.peak.candidates[0]
            where = f" while {step.layer} runs (live: {', '.join(step.live)})"
        out.append(f"peak activation memory {peak}{where}")
    out += constraint_lines(costs)
    return out


def _with_si(d: Dim) -> str:
    text, short = n(d), fmt_si(d)
    return text if text == short else f"{text} ({short})"


def constraint_lines(costs: Costs) -> list[str]:
    """What the spec requires of its symbols, in words."""
    assumed = costs.shapes.model.assume
    out = [f"assumed (assume:): {a}" for a in assumed.entries if a.symbol in costs.symbols]
    for name, b in sorted(costs.bounds.items()):
        out.append(
            f"{name} >= {b.value}: below that, {b.where} axis {b.axis} ({n(b.dim)}) "
            "has no positions left"
        )
    for c in costs.congruences:
        out.append(f"{c.where} needs {c}: only then do the shapes of its inputs agree")
    for u in costs.unchecked:
        out.append(f"{u.where} axis {u.axis} ({n(u.dim)}): no lower bound found; check it by hand")
    for name in costs.symbols:
        if (
            name in costs.bounds
            or assumed.about(name)
            or any(c.symbol == name for c in costs.congruences)
        ):
            smallest = costs.smallest(name)
            out.append(f"smallest valid {name}: {smallest}")
    return out
