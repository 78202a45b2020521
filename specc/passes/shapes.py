"""Shape inference: every layer's output type and parameters, with errors at the layer."""

from __future__ import annotations

from dataclasses import dataclass, field

from specc.diagnostics import Diagnostic, diag
from specc.dims import Dim, product
from specc.ir import Layer, Model, TensorType
from specc.ops import Param, Problem


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


def infer(model: Model) -> Shapes:
    """Walk the layers in order; a layer whose input is unknown is skipped silently."""
    shapes = Shapes(model)
    for x in model.inputs:
        shapes.types[x.name] = x.type
    for layer in model.layers:
        ins = [shapes.types.get(name) for name in layer.inputs]
        known = [t for t in ins if t is not None]
        if len(known) != len(ins):
            shapes.types[layer.name] = None
            continue
        try:
            out = layer.op.infer(known)
            params = layer.op.params(known)
        except Problem as p:
            node = (*layer.node, p.attr) if p.attr else layer.node
            span = model.source.value(node) if p.attr else layer.span
            shapes.diagnostics.append(diag(p.code, f"{layer.name}: {p.message}", span))
            shapes.types[layer.name] = None
            continue
        shapes.types[layer.name] = out
        shapes.layers[layer.name] = LayerShapes(layer, tuple(known), out, params)
    return shapes


def _sum(values: object) -> Dim:
    total: Dim = 0
    for v in values:  # type: ignore[attr-defined]
        total = total + v
    return total
