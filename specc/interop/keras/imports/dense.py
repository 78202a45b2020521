"""Keras's Dense and Embedding."""

from __future__ import annotations

from specc.interop.keras.imports.site import KerasLayer, Mapped, kernel_layer, maps, require_type


@maps("Dense")
def _dense(layer: KerasLayer) -> list[Mapped]:
    if layer.get("lora_rank"):
        raise layer.unsupported("with a LoRA rank")
    return kernel_layer(layer, "dense", {"units": int(layer.get("units"))}, ("kernel", "bias"))


@maps("Embedding")
def _embedding(layer: KerasLayer) -> list[Mapped]:
    require_type("embedding", layer)
    if layer.get("mask_zero", False):
        raise layer.unsupported("with mask_zero (specc has no masks)")
    attrs = {"input_dim": int(layer.get("input_dim")), "output_dim": int(layer.get("output_dim"))}
    return [Mapped("embedding", attrs, ("embeddings",))]
