"""Keras layers that move or copy values: Flatten, Reshape, Permute, Dropout, padding,
cropping, upsampling and Identity."""

from __future__ import annotations

from specc.interop.keras.imports.site import (
    KerasLayer,
    Mapped,
    channels_last,
    maps,
    pairs,
    window,
)


@maps("Flatten")
def _flatten(layer: KerasLayer) -> list[Mapped]:
    channels_last(layer)
    return [Mapped("flatten", {})]


@maps("Reshape")
def _reshape(layer: KerasLayer) -> list[Mapped]:
    return [Mapped("reshape", {"shape": tuple(int(d) for d in layer.get("target_shape"))})]


@maps("Permute")
def _permute(layer: KerasLayer) -> list[Mapped]:
    return [Mapped("permute", {"dims": tuple(int(d) for d in layer.get("dims"))})]


@maps("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")
def _dropout(layer: KerasLayer) -> list[Mapped]:
    rate = float(layer.get("rate", 0.0))
    return [Mapped("dropout", {"rate": rate})] if rate > 0 else [Mapped("identity", {})]


@maps("Identity")
def _identity(layer: KerasLayer) -> list[Mapped]:
    return [Mapped("identity", {})]


@maps("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D")
def _zero_pad(layer: KerasLayer) -> list[Mapped]:
    channels_last(layer)
    n = int(layer.cls[-2])
    return [Mapped(f"zero_pad{n}d", {"padding": pairs(layer, "padding", n)})]


@maps("Cropping1D", "Cropping2D", "Cropping3D")
def _cropping(layer: KerasLayer) -> list[Mapped]:
    channels_last(layer)
    n = int(layer.cls[-2])
    return [Mapped(f"cropping{n}d", {"cropping": pairs(layer, "cropping", n)})]


@maps("UpSampling1D", "UpSampling2D", "UpSampling3D")
def _upsample(layer: KerasLayer) -> list[Mapped]:
    channels_last(layer)
    n = int(layer.cls[-2])
    attrs: dict[str, object] = {"size": window(layer, "size", 2)}
    interpolation = layer.get("interpolation", "nearest")
    if n == 2:
        if interpolation not in ("nearest", "bilinear"):
            raise layer.unsupported(f"with interpolation {interpolation!r}")
        attrs["interpolation"] = interpolation
    return [Mapped(f"upsample{n}d", attrs)]
