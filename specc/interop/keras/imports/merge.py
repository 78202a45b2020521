"""Keras merge layers: Add, Subtract, Multiply (broadcasting) and Concatenate."""

from __future__ import annotations

from specc.interop.keras.imports.site import KerasLayer, Mapped, batch_axis_free, maps

_TYPES = {"Add": "add", "Subtract": "subtract", "Multiply": "multiply"}


@maps(*_TYPES)
def _elementwise(layer: KerasLayer) -> list[Mapped]:
    return [Mapped(_TYPES[layer.cls], {})]


@maps("Concatenate")
def _concat(layer: KerasLayer) -> list[Mapped]:
    axis = batch_axis_free(int(layer.get("axis", -1)))
    return [Mapped("concat", {"axis": -1 if axis == layer.rank - 1 else axis})]
