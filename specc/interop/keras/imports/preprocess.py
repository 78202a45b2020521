"""Keras preprocessing in the model: Rescaling and Normalization."""

from __future__ import annotations

from collections.abc import Sequence

from specc.interop.keras.imports.site import KerasLayer, Mapped, maps, require_type


def _number(layer: KerasLayer, key: str, default: float) -> float:
    value = layer.get(key, default)
    if isinstance(value, Sequence):
        if len(set(value)) != 1:
            raise layer.unsupported(f"with a {key} per channel")
        value = value[0]
    return float(value)


@maps("Rescaling")
def _rescaling(layer: KerasLayer) -> list[Mapped]:
    require_type("rescaling", layer)
    attrs = {"scale": _number(layer, "scale", 1.0), "offset": _number(layer, "offset", 0.0)}
    return [Mapped("rescaling", attrs)]


@maps("Normalization")
def _normalization(layer: KerasLayer) -> list[Mapped]:
    require_type("normalization", layer)
    axis = layer.get("axis", -1)
    axes = [axis] if isinstance(axis, int) else list(axis)
    if len(axes) != 1 or axes[0] not in (-1, layer.rank):  # Keras counts the batch axis
        raise layer.unsupported(f"over axis {axis} (specc normalises channels last)")
    if layer.get("invert", False):
        raise layer.unsupported("with invert")
    mean, variance = layer.get("mean"), layer.get("variance")
    if mean is None:  # adapted: the statistics are variables in the weights file
        return [Mapped("normalization", {}, ("mean", "variance", "count"))]
    return [Mapped("normalization", {}, constants={"mean": mean, "variance": variance})]
