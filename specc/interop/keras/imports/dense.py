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
    """`embedding` (input_dim, output_dim; weights ("embeddings",)) once the YAML writer declares
    integer inputs (`{shape: [...], dtype: int32}`); until then refused, not imported reading
    float indices."""
    require_type("embedding", layer)
    raise layer.unsupported("reads integer indices: specc import does not declare them yet")
