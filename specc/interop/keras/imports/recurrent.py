"""Keras recurrent layers: LSTM, GRU and Bidirectional."""

from __future__ import annotations

from typing import Any

from specc.interop.keras.imports.site import (
    KerasLayer,
    Mapped,
    activation_name,
    as_inner,
    inner,
    maps,
    require_type,
)


@maps("LSTM", "GRU")
def _recurrent(layer: KerasLayer) -> list[Mapped]:
    type_ = layer.cls.lower()
    require_type(type_, layer)
    for flag in ("return_state", "go_backwards", "stateful"):
        if layer.get(flag, False):
            raise layer.unsupported(f"with {flag}")
    attrs: dict[str, Any] = {
        "units": int(layer.get("units")),
        "activation": activation_name(layer),
        "recurrent_activation": activation_name(layer, "recurrent_activation"),
        "bias": bool(layer.get("use_bias", True)),
        "return_sequences": bool(layer.get("return_sequences", False)),
    }
    if type_ == "gru":
        attrs["reset_after"] = bool(layer.get("reset_after", True))
    names = ("kernel", "recurrent_kernel") + ("bias",) * attrs["bias"]
    return [Mapped(type_, attrs, names, groups=("cell",))]


@maps("Bidirectional")
def _bidirectional(layer: KerasLayer) -> list[Mapped]:
    require_type("bidirectional", layer)
    mode = layer.get("merge_mode", "concat")
    if mode not in ("concat", "sum", "mul", "ave"):
        raise layer.unsupported(f"with merge_mode {mode!r}")
    forward, *after = inner(layer, "layer", layer.inputs[0])
    if forward.type not in ("lstm", "gru") or after:
        raise layer.unsupported(f"around a {forward.type} (specc's wraps an lstm or gru)")
    names = tuple(f"{d}_{w}" for d in ("forward", "backward") for w in forward.weights)
    groups = ("forward_layer/cell", "backward_layer/cell")
    attrs = {"layer": as_inner(forward), "merge_mode": mode}
    return [Mapped("bidirectional", attrs, names, groups=groups)]
