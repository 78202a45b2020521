"""Keras pooling: Max/AveragePooling1D/2D/3D and the global poolings (keepdims)."""

from __future__ import annotations

from typing import Any

from specc.interop.keras.imports.site import KerasLayer, Mapped, channels_last, maps, window

_KIND = {"Max": "max", "Average": "avg"}


@maps(*(f"{k}Pooling{n}D" for k in _KIND for n in (1, 2, 3)))
def _pool(layer: KerasLayer) -> list[Mapped]:
    channels_last(layer)
    kind, n = _KIND[layer.cls.split("Pooling")[0]], layer.cls[-2]
    pool = window(layer, "pool_size", 2)
    attrs: dict[str, Any] = {"pool": pool, "padding": layer.get("padding", "valid")}
    if layer.get("strides") is not None:
        stride = window(layer, "strides")
        attrs["stride"] = None if stride == pool else stride
    return [Mapped(f"{kind}_pool{n}d", attrs)]


@maps(*(f"Global{k}Pooling{n}D" for k in _KIND for n in (1, 2, 3)))
def _global(layer: KerasLayer) -> list[Mapped]:
    channels_last(layer)
    kind = _KIND[layer.cls[len("Global") :].split("Pooling")[0]]
    return [Mapped(f"global_{kind}_pool", {"keepdims": bool(layer.get("keepdims", False))})]
