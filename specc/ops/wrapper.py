"""time_distributed: apply an inner layer to every slice of the first axis."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from specc.dims import Dim
from specc.ir import TensorType
from specc.ops.base import (
    REGISTRY,
    AxisStep,
    Footprint,
    KeepAxes,
    Op,
    Param,
    Problem,
    attr,
    expect_min_rank,
)


class TimeDistributed(Op):
    """The inner layer sees (shape[1:]) and shares its weights across the first axis."""

    type = "time_distributed"
    family = "wrapper"
    summary = "apply the inner layer to every slice of the first axis, with shared weights"
    inner_attr = "layer"
    layer: Op = attr(
        schema={"$ref": "#/$defs/inner_layer"}, doc="the inner layer (type and attributes)"
    )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Op:
        inner = data["layer"]
        return cls(layer=REGISTRY[inner["type"]].from_mapping(inner))

    def _slice(self, x: TensorType) -> TensorType:
        expect_min_rank(self, x, 2)
        return TensorType(x.shape[1:])

    def infer(self, inputs: Sequence[TensorType]) -> TensorType:
        (x,) = inputs
        piece = self._slice(x)
        try:
            inner = self.layer.infer([piece])
        except Problem as problem:  # say which tensor the inner layer saw, and where it came from
            message = f"on each {piece} slice of the {x} input, {problem.message}"
            raise Problem(problem.code, message, problem.attr) from None
        return TensorType((x.shape[0], *inner.shape))

    def params(self, inputs: Sequence[TensorType]) -> tuple[Param, ...]:
        return self.layer.params([self._slice(inputs[0])])

    def macs(self, inputs: Sequence[TensorType], output: TensorType) -> Dim:
        """The inner layer's MACs once per slice of the first axis."""
        (x,) = inputs
        return self.layer.macs([self._slice(x)], TensorType(output.shape[1:])) * x.shape[0]

    def footprint(self, inputs: Sequence[TensorType], output: TensorType) -> Footprint:
        """The first axis is kept position for position; the inner layer maps the rest."""
        inner = self.layer.footprint([self._slice(inputs[0])], TensorType(output.shape[1:]))
        if isinstance(inner, tuple):
            return (AxisStep(1), *inner)
        if isinstance(inner, KeepAxes):
            return KeepAxes((0, *(a + 1 for a in inner.axes)))
        # Slices stay apart even when the inner layer folds or pools its own axes.
        return inner if inner in ("same", "dense") else KeepAxes((0,))
