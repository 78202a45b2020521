"""Keras's TimeDistributed: the inner layer applied to every step, its weights shared."""

from __future__ import annotations

from specc.interop.keras.imports.site import KerasLayer, Mapped, as_inner, inner, maps


@maps("TimeDistributed")
def _time_distributed(layer: KerasLayer) -> list[Mapped]:
    wrapped, *after = inner(layer, "layer", layer.inputs[0][1:])
    groups = tuple(f"layer/{g}".rstrip("/") for g in wrapped.groups)
    if wrapped.constants:
        raise layer.unsupported("around a layer whose weights are in its config")
    td = Mapped("time_distributed", {"layer": as_inner(wrapped)}, wrapped.weights, groups)
    return [td, *after]  # element-wise activations (leaky_relu's 0.2) act on every step alike
