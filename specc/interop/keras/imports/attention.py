"""Keras's MultiHeadAttention."""

from __future__ import annotations

from typing import Any

from specc.interop.keras.imports.site import KerasLayer, Mapped, maps

ROLES = ("query", "key", "value", "output")


@maps("MultiHeadAttention")
def _mha(layer: KerasLayer) -> list[Mapped]:
    axes = layer.get("attention_axes")  # built layers save their default: every inner axis
    rank = layer.rank + 1  # with the batch axis
    if axes is not None and sorted(a % rank for a in axes) != list(range(1, rank - 1)):
        raise layer.unsupported("with attention_axes (specc attends over every axis but the last)")
    out = layer.get("output_shape")
    if isinstance(out, list | tuple):
        if len(out) != 1:
            raise layer.unsupported(f"with output_shape {out}")
        out = out[0]
    bias = bool(layer.get("use_bias", True))
    attrs: dict[str, Any] = {
        "num_heads": int(layer.get("num_heads")),
        "key_dim": int(layer.get("key_dim")),
        "value_dim": layer.get("value_dim"),
        "output_shape": out,
        "bias": bias,
        "dropout": float(layer.get("dropout", 0.0)),
    }
    names = tuple(f"{r}_{w}" for r in ROLES for w in ("kernel", "bias")[: 1 + bias])
    return [Mapped("multi_head_attention", attrs, names, groups=tuple(f"{r}_dense" for r in ROLES))]
