"""Shape inference: every layer's output type and parameters, with errors at the layer."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from specc import codes
from specc.diagnostics import Diagnostic, Note, diag
from specc.dims import Dim, format_dim, product
from specc.ir import Input, Layer, Model, TensorType, format_shape
from specc.limits import DEFAULT_LIMITS, Limits
from specc.ops import Param, Problem
from specc.passes.congruence import merge_conditions


@dataclass(frozen=True)
class LayerShapes:
    """What inference learned about one layer."""

    layer: Layer
    inputs: tuple[TensorType, ...]
    output: TensorType
    params: tuple[Param, ...]

    @property
    def param_count(self) -> Dim:
        return _sum(product(p.shape) for p in self.params)

    @property
    def trainable_count(self) -> Dim:
        return _sum(product(p.shape) for p in self.params if p.trainable)


@dataclass
class Shapes:
    """The inferred types of every input and layer (None where inference could not go on)."""

    model: Model
    types: dict[str, TensorType | None] = field(default_factory=dict)
    layers: dict[str, LayerShapes] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.layers) == len(self.model.layers)


def infer(model: Model, limits: Limits = DEFAULT_LIMITS) -> Shapes:
    """Walk the layers in order; a layer whose input is unknown is skipped silently.

    A tensor over `limits.max_elements` is an error and stops inference along its path, so
    dims never grow without bound.
    """
    shapes = Shapes(model)
    for x in model.inputs:
        too_big = _oversized([("input", x.type.shape)], limits.max_elements)
        if too_big:
            shapes.diagnostics.append(diag(codes.TOO_BIG, f"{x.name}: {too_big}", x.span))
        shapes.types[x.name] = None if too_big else x.type
    for layer in model.layers:
        ins = [shapes.types.get(name) for name in layer.inputs]
        known = [t for t in ins if t is not None]
        if len(known) != len(ins):
            shapes.types[layer.name] = None
            continue
        wrong = _not_indices(model, layer)
        if wrong is not None:
            shapes.diagnostics.append(wrong)
            shapes.types[layer.name] = None
            continue
        try:
            out = layer.op.infer(known)
            params = layer.op.params(known)
        except Problem as p:
            node = (*layer.node, p.attr) if p.attr else layer.node
            span = model.source.value(node) if p.attr and layer.span else layer.span
            notes = _merge_notes(layer, known, model) if p.code == codes.MERGE_MISMATCH else ()
            shapes.diagnostics.append(diag(p.code, f"{layer.name}: {p.message}", span, *notes))
            shapes.types[layer.name] = None
            continue
        tensors = [("output", out.shape), *((f"weight '{p.name}'", p.shape) for p in params)]
        too_big = _oversized(tensors, limits.max_elements)
        if too_big:
            shapes.diagnostics.append(diag(codes.TOO_BIG, f"{layer.name}: {too_big}", layer.span))
            shapes.types[layer.name] = None
            continue
        shapes.types[layer.name] = out
        shapes.layers[layer.name] = LayerShapes(layer, tuple(known), out, params)
    return shapes


def _not_indices(model: Model, layer: Layer) -> Diagnostic | None:
    """S111 when a layer that reads indices (an embedding) reads something other than an
    integer model input."""
    if layer.op.index_bound() is None:
        return None
    declared = {x.name: x for x in model.inputs}
    for name in layer.inputs:
        x = declared.get(name)
        if x is not None and x.integer:
            continue
        what = (
            f"the output of layer '{name}', which is float32 (every layer's output is)"
            if x is None
            else f"the input '{name}', declared float32; write it as "
            f"{name}: {{shape: {_shape_list(x)}, dtype: int32}}"
        )
        notes = () if x is None or x.span is None else (Note(f"'{name}' is declared here", x.span),)
        message = f"{layer.name}: {layer.type} reads integer indices, but its input is {what}"
        return diag(codes.INDEX_DTYPE, message, layer.span, *notes)
    return None


def _shape_list(x: Input) -> str:
    return "[" + ", ".join(format_dim(d) for d in x.type.shape) + "]"


def _merge_notes(layer: Layer, inputs: list[TensorType], model: Model) -> tuple[Note, ...]:
    """For branches that differ only for some values of a symbol (among those the spec
    assumes): the values where they agree."""
    assumed = model.assume
    conditions = merge_conditions(layer, inputs, assumed.least, assumed)
    if not conditions:
        return ()
    clauses = " and ".join(c.clause() for c in conditions)
    assume = ", ".join(f'"{c.assumption()}"' for c in conditions)
    return (
        Note(f"the shapes agree only when {clauses}"),
        Note(f"if they always do, declare it: assume: [{assume}]"),
    )


def _oversized(tensors: Iterable[tuple[str, tuple[Dim, ...]]], limit: int) -> str | None:
    """Say which tensor has more than `limit` elements, counting only its numeric dims
    (a symbolic dim is at least 1)."""
    for what, shape in tensors:
        known = math.prod(d for d in shape if isinstance(d, int))
        if known > limit:
            count, most = _count(known), _count(limit)
            shown = format_shape(shape)
            return f"the {what} {shown} has {count} elements, over the limit of {most}"
    return None


def _count(n: int) -> str:
    """`1,099,511,627,776`, or `about 9.9e27` for numbers too long to read."""
    if n < 10**15:
        return f"{n:,}"
    exponent = int(math.log10(n))
    return f"about {n / 10**exponent:.1f}e{exponent}"


def _sum(values: object) -> Dim:
    total: Dim = 0
    for v in values:  # type: ignore[attr-defined]
        total = total + v
    return total
