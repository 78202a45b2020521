"""Keras activation layers: Activation (by name), ReLU, LeakyReLU, ELU and Softmax."""

from __future__ import annotations

from specc.interop.keras.imports.site import (
    FUNCTION_ATTRS,
    KerasLayer,
    Mapped,
    activation_name,
    batch_axis_free,
    maps,
    optional,
)


@maps("Activation")
def _activation(layer: KerasLayer) -> list[Mapped]:
    name = activation_name(layer)
    if name is None:
        return []  # linear: the value itself
    return [Mapped(name, dict(FUNCTION_ATTRS.get(name, {})))]


@maps("ReLU")
def _relu(layer: KerasLayer) -> list[Mapped]:
    top, slope = layer.get("max_value"), float(layer.get("negative_slope", 0.0))
    if float(layer.get("threshold", 0.0)) != 0.0:
        raise layer.unsupported("with a threshold other than 0")
    if top is None and slope == 0:
        return [Mapped("relu", {})]
    if top is not None and float(top) == 6.0 and slope == 0:
        return [Mapped("relu6", {})]
    if top is None:
        return [Mapped("leaky_relu", {"alpha": slope})]
    raise layer.unsupported(f"with max_value {top} and negative_slope {slope}")


@maps("LeakyReLU")
def _leaky_relu(layer: KerasLayer) -> list[Mapped]:
    slope = layer.get("negative_slope", layer.get("alpha", 0.3))  # Keras 2 called it alpha
    return [Mapped("leaky_relu", {"alpha": float(slope)})]


@maps("ELU")
def _elu(layer: KerasLayer) -> list[Mapped]:
    return [Mapped("elu", {"alpha": float(layer.get("alpha", 1.0))})]


@maps("Softmax")
def _softmax(layer: KerasLayer) -> list[Mapped]:
    axis = layer.get("axis", -1)
    if not isinstance(axis, int):
        raise layer.unsupported(f"over the axes {axis}")
    axis = batch_axis_free(axis)
    if axis == layer.rank - 1:
        axis = -1
    return [Mapped("softmax", optional("softmax", "axis", axis, -1, layer))]
