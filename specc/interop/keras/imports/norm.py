"""Keras normalisation: BatchNormalization, LayerNormalization, GroupNormalization."""

from __future__ import annotations

from typing import Any

from specc.interop.keras.imports.site import (
    KerasLayer,
    Mapped,
    batch_axis_free,
    maps,
    require_type,
)


def _axes(layer: KerasLayer) -> tuple[int, ...]:
    """The layer's axes as the spec counts them, negative (from the end)."""
    value = layer.get("axis", -1)
    values = [value] if isinstance(value, int) else list(value)
    rank = layer.rank
    return tuple(sorted(a - rank if a >= 0 else a for a in map(batch_axis_free, values)))


def _learned(layer: KerasLayer) -> tuple[dict[str, Any], tuple[str, ...]]:
    center, scale = bool(layer.get("center", True)), bool(layer.get("scale", True))
    attrs = {"epsilon": float(layer.get("epsilon", 0.001)), "center": center, "scale": scale}
    return attrs, ("gamma",) * scale + ("beta",) * center


@maps("BatchNormalization")
def _batch_norm(layer: KerasLayer) -> list[Mapped]:
    if _axes(layer) != (-1,):
        raise layer.unsupported(f"over axis {layer.get('axis')} (specc normalises channels last)")
    if layer.get("renorm", False):
        raise layer.unsupported("with renorm")
    attrs, names = _learned(layer)
    return [Mapped("batch_norm", attrs, (*names, "moving_mean", "moving_variance"))]


@maps("LayerNormalization")
def _layer_norm(layer: KerasLayer) -> list[Mapped]:
    require_type("layer_norm", layer)
    if layer.get("rms_scaling", False):
        raise layer.unsupported("with rms_scaling")
    attrs, names = _learned(layer)
    axes = _axes(layer)
    return [Mapped("layer_norm", {"axis": axes[0] if len(axes) == 1 else axes, **attrs}, names)]


@maps("GroupNormalization")
def _group_norm(layer: KerasLayer) -> list[Mapped]:
    require_type("group_norm", layer)
    if _axes(layer) != (-1,):
        raise layer.unsupported(f"over axis {layer.get('axis')} (specc groups channels last)")
    attrs, names = _learned(layer)
    return [Mapped("group_norm", {"groups": int(layer.get("groups", 32)), **attrs}, names)]
